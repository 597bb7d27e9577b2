"""Staff forms: inbox filters (GET, no CSRF needed: they change nothing) and one form for every action."""

from __future__ import annotations

from flask_babel import get_locale
from markupsafe import Markup
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from portal.forms import Form, OneTimeForm, category_choices, yuan_to_fen
from portal.i18n import lazy_gettext as _l
from portal.inputs.fields import DayField, WholeField
from portal.models import Channel, Kind, Status
from portal.services import ledger, taxonomy, tickets
from portal.vocabulary import (
    CATEGORY_LABELS,
    GROUP_LABELS,
    KIND_LABELS,
    LEDGER_CHANNEL_LABELS,
    RATING_LABELS,
    STATUS_LABELS,
)

_RENDERED: dict[tuple, Markup] = {}  # (field, value, language, attributes) → the select's HTML


class InboxFilters(Form):
    class Meta:
        csrf = False

        def render_field(self, field, render_kw):
            """Staff reload the inbox all day, and its selects render the same few hundred ways (a fifth of
            the page's time): each way is rendered once per process. Refused values are never kept."""
            if field.type != "SelectField" or field.errors or len(_RENDERED) >= 2000:
                return super().render_field(field, render_kw)
            key = (field.name, field.data, str(get_locale()), tuple(sorted(render_kw.items())))
            if key not in _RENDERED:
                _RENDERED[key] = super().render_field(field, render_kw)
            return _RENDERED[key]

    status = SelectField(_l("Status"), choices=[SelectChoice("open", _l("Open")), SelectChoice("closed", _l("Closed")),
                                                SelectChoice("all", _l("All"))]
                         + [SelectChoice(s.value, STATUS_LABELS[s]) for s in Status], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("", _l("All"))]
                       + [SelectChoice(k.value, KIND_LABELS[k]) for k in Kind], validators=[Optional()])
    category = SelectField(_l("Category"), choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(c.code, CATEGORY_LABELS[c.code], optgroup=GROUP_LABELS[g.code])
        for g in taxonomy.TAXONOMY for c in g.categories],
        validators=[Optional()])
    level = SelectField(_l("Handled by"), choices=[SelectChoice("", _l("My union and below")),
                                                   SelectChoice("own", _l("My union")),
                                                   SelectChoice("below", _l("Unions below mine"))],
                        validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    q = StringField(_l("Search"), validators=[Length(max=100)])
    page = WholeField(validators=[Optional(), NumberRange(min=1, max=100_000)])
    view = StringField(validators=[Length(max=10)])  # a tab (tickets.VIEWS); a hidden field of the filter form

    def query(self) -> tickets.InboxQuery:
        """Invalid choices are ignored rather than refused: a filter link must never break the inbox. Without a
        view or any filter the inbox opens on what waits to be accepted; a filter link without a view (older
        links, bookmarks) keeps meaning all open cases."""
        self.validate()
        valid = {name: "" if self[name].errors else (self[name].data or "") for name in
                 ("status", "kind", "category", "level", "q")}
        filtered = any(self[name].raw_data for name in ("status", "kind", "category", "level", "q", "overdue"))
        view = self.view.data if self.view.data in tickets.VIEWS else ("open" if filtered else "accept")
        return tickets.InboxQuery(status=valid["status"] or "open", kind=valid["kind"], category=valid["category"],
                                  level=valid["level"], search=valid["q"], overdue=bool(self.overdue.data),
                                  page=self.page.data if not self.page.errors and self.page.data else 1, view=view)


class ActionForm(Form):
    note = TextAreaField(_l("Text"), validators=[Length(max=tickets.MAX_NOTE)])
    target = SelectField(_l("Pass to"), choices=[], validate_choice=False)
    days = WholeField(_l("Working days in all"), validators=[Optional(), NumberRange(min=1, max=30)])
    approve = RadioField(_l("Decision"), choices=[SelectChoice("yes", _l("Approve")), SelectChoice("no", _l("Refuse"))],
                         validators=[Optional()])
    rating = RadioField(_l("What the worker said"), choices=[SelectChoice(r.value, label)
                                                             for r, label in RATING_LABELS.items()],
                        validators=[Optional()])
    recovered = StringField(_l("Wages recovered (yuan)"), validators=[Length(max=20)])
    into = StringField(_l("Ticket number to merge into"), validators=[Length(max=24)])
    promised_by = DayField(_l("Awaiting a promised action by (optional)"), validators=[Optional()])

    def validate_recovered(self, field) -> None:
        try:
            yuan_to_fen(field.data, field.name)
        except ValueError:
            raise ValidationError(_l("Enter the amount in yuan, for example 3500.")) from None

    def inputs(self, action: str) -> dict:
        """What the action takes (tickets.ACTIONS[action].run), read from this one form every action posts."""
        note = self.note.data or ""
        match action:
            case "dispatch" | "accept_and_dispatch":
                return {"target": self.target.data, "note": note}
            case "return_up" | "reopen":
                return {"reason": note}
            case "report_up":
                return {"result": note}
            case "ask_information":
                return {"question": note}
            case "reply":
                return {"text": note, "recovered_fen": yuan_to_fen(self.recovered.data, "recovered"),
                        "promised_by": self.promised_by.data}
            case "request_extension":
                return {"days": self.days.data or 0, "reason": note}
            case "decide_extension":
                return {"approve": self.approve.data == "yes", "note": note}
            case "return_visit":
                return {"rating": self.rating.data or "", "comment": note}
            case "close":
                return {"recovered_fen": yuan_to_fen(self.recovered.data, "recovered")}
            case "merge":
                return {"into": self.into.data or ""}
        return {}


class LedgerForm(OneTimeForm):
    channel = RadioField(_l("How did the worker contact you?"), default=Channel.HOTLINE.value,
                         choices=[SelectChoice(c.value, LEDGER_CHANNEL_LABELS[c]) for c in ledger.CHANNELS])
    kind = RadioField(_l("What do they need?"), default=Kind.CONSULTATION.value,
                      choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    category = SelectField(_l("What is it about?"), choices=category_choices, validate_choice=False)
    summary = TextAreaField(_l("What the worker told you"), validators=[Length(max=tickets.MAX_DESCRIPTION)])
    answer = TextAreaField(_l("The answer you gave (if answered on the spot)"),
                           validators=[Length(max=tickets.MAX_NOTE)])
    to_ticket = BooleanField(_l("Needs handling: create a ticket"))
    urgent = BooleanField(_l("Urgent: answer today"))
    caller_name = StringField(_l("Caller's name (optional)"), validators=[Length(max=64)])
    caller_phone = StringField(_l("Caller's mobile number (optional)"), validators=[Length(max=20)])

    def contact(self, place_code: str) -> ledger.Contact:
        return ledger.Contact(
            channel=Channel(self.channel.data) if self.channel.data in {c.value for c in Channel} else Channel.WEB,
            kind=Kind(self.kind.data) if self.kind.data in {k.value for k in Kind} else Kind.CONSULTATION,
            category=self.category.data or "", summary=self.summary.data or "", answer=self.answer.data or "",
            to_ticket=bool(self.to_ticket.data), place_code=place_code, caller_name=self.caller_name.data or "",
            caller_phone=self.caller_phone.data or "", urgent=bool(self.urgent.data))
