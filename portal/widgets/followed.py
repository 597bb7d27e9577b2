"""The requests this browser may follow: proven with the number and query code, just sent from it (the receipt), or
opened from a signed link in a text message. Kept in the session, so no code ever travels in a URL."""

from __future__ import annotations

from flask import session
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.forms import Form
from portal.i18n import lazy_gettext as _l

GRANTS = "tracking"  # session key: ids of the tickets this browser proved it may follow
MAX_GRANTS = 20


def grant(ticket_id: int) -> None:
    session[GRANTS] = [ticket_id, *(t for t in session.get(GRANTS, []) if t != ticket_id)][:MAX_GRANTS]


def granted() -> list[int]:
    return list(session.get(GRANTS, []))


class TextsForm(Form):
    """"Text me when there is news": on the receipt and on the request's own page (both post to tracking.texts)."""

    phone = StringField(_l("Mobile number for text messages"), validators=[
        DataRequired(_l("Enter an 11-digit mainland mobile number.")), Length(max=20)])
