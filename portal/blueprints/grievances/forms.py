"""The grievance form: fields, the one-time form token, and turning the form into a Submission."""

from __future__ import annotations

import hashlib
import json

from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length

from portal.exceptions import InvalidInput
from portal.forms import OneTimeForm, category_choices, read_form_token, read_uploads, yuan_to_fen
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.models import Channel, Kind
from portal.services import evidence, tickets
from portal.vocabulary import KIND_LABELS


class GrievanceForm(OneTimeForm):
    via = HiddenField()  # the QR code the form was opened from, if any
    kind = RadioField(_l("What do you need?"), choices=[
        SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        validators=[InputRequired(_l("Choose what you need."))])
    category = SelectField(_l("What is it about?"), choices=category_choices, validators=[
        InputRequired(_l("Choose a category."))])
    description = TextAreaField(_l("What happened?"), validators=[
        DataRequired(_l("Tell us what happened.")), Length(max=tickets.MAX_DESCRIPTION)])
    employer = StringField(_l("Employer"), validators=[Length(max=200)])
    amount_owed = StringField(_l("Amount owed (yuan)"), validators=[Length(max=20)])
    workers_affected = StringField(_l("Number of workers affected"), validators=[Length(max=10)])
    lat = HiddenField()
    lng = HiddenField()
    anonymous = BooleanField(_l("Stay anonymous"), default=True)
    contact_name = StringField(_l("Your name"), validators=[Length(max=64)])
    contact_phone = StringField(_l("Your mobile number"), validators=[Length(max=20)])
    evidence = MultipleFileField(_l("Photos or documents (optional)"))
    consent = BooleanField(_l("I agree that the union uses this information to handle my request."),
                           validators=[DataRequired(_l("Please agree, or we cannot handle your request."))])

    def amount_fen(self) -> int | None:
        return yuan_to_fen(self.amount_owed.data, "amount_owed")

    def submission(self, place_code: str | None, member_id: int | None) -> tickets.Submission:
        """Raise ValueError(field name) for numbers that cannot be read; the service checks the rest."""
        try:
            workers = parse.whole(self.workers_affected.data, "workers_affected", 1, 100_000)
            lat = parse.number(self.lat.data, "location", -90, 90)
            lng = parse.number(self.lng.data, "location", -180, 180)
        except InvalidInput as error:
            raise ValueError(next(iter(error.fields))) from None
        return tickets.Submission(
            kind=Kind(self.kind.data), category=self.category.data, description=self.description.data or "",
            place_code=place_code or "", channel=Channel.QR if self.via.data else Channel.WEB,
            employer=self.employer.data or "", amount_owed_fen=self.amount_fen(),
            workers_affected=workers, lat=lat, lng=lng,
            anonymous=bool(self.anonymous.data), contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "", member_id=member_id)

    def uploads(self) -> list[evidence.Upload]:
        return read_uploads(self.evidence)

    place_errors: list[str] = []  # the place's finding, shown by the region picker beside the form

    def fingerprint(self, place_code: str | None) -> str:
        """What the worker asked, independent of the form's token."""
        parts = [self.kind.data, self.category.data, (self.description.data or "").strip(), place_code,
                 (self.employer.data or "").strip(), self.amount_owed.data, self.workers_affected.data]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()

    def try_submit(self, place_code: str | None, member_id: int | None, now, sent: dict) -> tickets.Receipt | None:
        """The receipt, or None with the problems attached to the form.

        `sent` (the worker's session) remembers the last few requests with their tokens: a worker who goes
        back from the receipt gets a fresh form and token, but sending the same request again must find the
        first ticket, not make a second one.
        """
        fingerprint = self.fingerprint(place_code)
        earlier = dict(sent.get(SENT, []))
        if fingerprint in earlier and read_form_token(earlier[fingerprint]):
            self.token.data = earlier[fingerprint]
        try:
            receipt = tickets.submit(self.submission(place_code, member_id), token=self.record_key(), now=now,
                                     uploads=self.uploads())
        except ValueError as error:  # a number the form could not read
            name = str(error)
            self.show_error(InvalidInput(fields={name: NUMBER_PROBLEMS.get(name, _l("Please check this."))}))
        except InvalidInput as error:
            self.place_errors = [str(error.fields["place"])] if "place" in error.fields else []
            self.show_error(error, {"place": None})
        else:
            sent[SENT] = [[fingerprint, self.token.data], *[p for p in sent.get(SENT, []) if p[0] != fingerprint]][:5]
            return receipt
        return None


SENT = "grievances_sent"  # session key: [fingerprint, signed form token] of the last requests sent

NUMBER_PROBLEMS = {
    "amount_owed": _l("Enter the amount in yuan, for example 3500."),
    "workers_affected": _l("Enter a number between 1 and 100,000."),
    "location": _l("The location could not be read. You can leave it out."),
}
