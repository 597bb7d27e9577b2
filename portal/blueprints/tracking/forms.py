"""The worker's forms: looking a request up, and one form for each of the worker's actions on it."""

from __future__ import annotations

from wtforms import MultipleFileField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import Form, read_uploads
from portal.i18n import lazy_gettext as _l
from portal.services import evidence, tickets
from portal.vocabulary import RATING_LABELS


class LookupForm(Form):
    number = StringField(_l("Ticket number"), validators=[DataRequired(_l("Enter the ticket number.")),
                                                           Length(max=40)])
    code = StringField(_l("Query code"), validators=[DataRequired(_l("Enter the query code.")), Length(max=40)])


class MessageForm(Form):
    text = TextAreaField(_l("Add information"), validators=[DataRequired(_l("Please write a few words.")),
                                                            Length(max=tickets.MAX_NOTE)])
    evidence = MultipleFileField(_l("Photos or documents (optional)"))

    action = "add_information"

    def uploads(self) -> list[evidence.Upload]:
        return read_uploads(self.evidence)

    def inputs(self) -> dict:
        return {"text": self.text.data, "uploads": self.uploads()}


class RatingForm(Form):
    rating = RadioField(_l("How satisfied are you with the answer?"),
                        choices=[SelectChoice(r.value, label) for r, label in RATING_LABELS.items()],
                        validators=[InputRequired(_l("Choose one."))])
    comment = TextAreaField(_l("Anything to add? (optional)"), validators=[Length(max=tickets.MAX_NOTE)])
    action = "rate"

    def inputs(self) -> dict:
        return {"rating": self.rating.data, "comment": self.comment.data or ""}


class WithdrawForm(Form):
    reason = StringField(_l("Why? (optional)"), validators=[Length(max=500)])
    action = "withdraw"

    def inputs(self) -> dict:
        return {"reason": self.reason.data or ""}


# The form of each of the worker's actions (tickets.WORKER_ACTIONS), by the name the page knows it under.
ACTION_FORMS = {"add_information": ("message_form", MessageForm), "rate": ("rating_form", RatingForm),
                "withdraw": ("withdraw_form", WithdrawForm)}


class CodeForm(Form):
    code = StringField(_l("The 6-digit code we sent"), validators=[
        DataRequired(_l("Enter the code from the text message.")), Length(max=12)])


class StopForm(Form):
    """One button: no fields but the CSRF token."""


class LostForm(Form):
    phone = StringField(_l("The mobile number you gave"), validators=[
        DataRequired(_l("Enter an 11-digit mainland mobile number.")), Length(max=20)])
