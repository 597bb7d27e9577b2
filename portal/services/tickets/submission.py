"""A new request becomes a ticket: what a submission may hold, and creating it exactly once.

New tickets land at the root union with their reply deadline. The form token makes a double tap, a resubmission
or a retry after a lost response find the ticket the first one made; the ticket and its evidence are kept together
or not at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.database import begin_write
from portal.exceptions import InvalidInput
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Attachment, Channel, Kind, Status, Ticket, TicketEvent
from portal.services import evidence, regions, sla, stats, taxonomy
from portal.services.tickets.codes import code_hash, next_number, query_code_for
from portal.services.tickets.counts import count
from portal.services.users import normalise_phone
from portal.settings import setting

MAX_DESCRIPTION = 4000
MAX_FEN = 10**12  # ten billion yuan: anything above is a typing error


@dataclass(frozen=True)
class Submission:
    kind: Kind
    category: str
    description: str
    place_code: str
    channel: Channel = Channel.WEB
    employer: str = ""
    amount_owed_fen: int | None = None
    workers_affected: int | None = None
    lat: float | None = None
    lng: float | None = None
    anonymous: bool = True
    contact_name: str = ""
    contact_phone: str = ""
    member_id: int | None = None
    urgent: bool = False
    api_channel_id: int | None = None


@dataclass(frozen=True)
class Receipt:
    ticket: Ticket
    query_code: str
    created: bool


def validate(sub: Submission) -> dict[str, str]:
    """Field → problem, for everything a submission could get wrong; empty when it is acceptable."""
    problems: dict[str, str] = {}
    if sub.category not in taxonomy.CATEGORIES:
        problems["category"] = _l("Choose a category.")
    text = sub.description.strip()
    if not text:
        problems["description"] = _l("Tell us what happened.")
    elif len(text) > MAX_DESCRIPTION or "\x00" in text:
        problems["description"] = _l("Use at most %(num)d characters.", num=MAX_DESCRIPTION)
    if not regions.is_place_code(sub.place_code):
        problems["place"] = _l("Choose the city and district where this happened.")
    if len(sub.employer) > 200:
        problems["employer"] = _l("Use at most %(num)d characters.", num=200)
    if sub.amount_owed_fen is not None and not 0 <= sub.amount_owed_fen < MAX_FEN:
        problems["amount_owed"] = _l("Enter the amount in yuan, for example 3500.")
    if sub.workers_affected is not None and not 1 <= sub.workers_affected <= 100_000:
        problems["workers_affected"] = _l("Enter a number between 1 and 100,000.")
    if (sub.lat is None) != (sub.lng is None) or (sub.lat is not None and not (
            math.isfinite(sub.lat) and math.isfinite(sub.lng) and -90 <= sub.lat <= 90 and -180 <= sub.lng <= 180)):
        problems["location"] = _l("The location could not be read. You can leave it out.")
    if sub.contact_phone:
        try:
            normalise_phone(sub.contact_phone)
        except InvalidInput:
            problems["contact_phone"] = _l("Enter an 11-digit mainland mobile number.")
    if len(sub.contact_name) > 64:
        problems["contact_name"] = _l("Use at most %(num)d characters.", num=64)
    return problems


def submit(sub: Submission, *, token: str, now: datetime, uploads: list[evidence.Upload] = ()) -> Receipt:
    """Create the ticket with its evidence, or return the one this form token already created (double
    taps, retries). The ticket and its files are kept together or not at all."""
    if not token or len(token) > 64:
        raise InvalidInput(fields={"token": _l("This form is no longer valid. Please reload the page.")})
    code = query_code_for(token)
    existing = db.session.scalar(select(Ticket).where(Ticket.submission_token == token))
    if existing is not None:
        return Receipt(existing, code, created=False)
    ready, file_problems = evidence.prepare(list(uploads))
    if problems := validate(sub) | file_problems:
        raise InvalidInput(fields=problems)
    # jieba's first call in a process loads its dictionary (a second): before the write lock, not under it.
    words = stats.hot_words_of(sub.description.strip())
    stored = evidence.store(ready)  # first: if a write fails, nothing has touched the database
    try:
        begin_write()
        ticket = new_ticket(sub, token, code, now, words)
        attach(ticket, ticket.events[0], stored, now)
        db.session.commit()
    except IntegrityError:
        # The same form token raced us to the insert: that submission is this one.
        db.session.rollback()
        evidence.remove(stored)
        existing = db.session.scalar(select(Ticket).where(Ticket.submission_token == token))
        if existing is None:
            raise
        return Receipt(existing, code, created=False)
    except BaseException:
        db.session.rollback()
        evidence.remove(stored)
        raise
    return Receipt(ticket, code, created=True)


def new_ticket(sub: Submission, token: str, code: str, now: datetime, words: list[str]) -> Ticket:
    """A new ticket and its first event, added to the session, from a checked submission (`submit`, and a
    worker's message that continues a closed request)."""
    period, due = sla.reply_deadline(sub.kind, sub.urgent, now)
    ticket = Ticket(
        number=next_number(now), query_code_hash=code_hash(code), submission_token=token, kind=sub.kind,
        category=sub.category, channel=sub.channel, status=Status.SUBMITTED, place_code=sub.place_code,
        handler_code=setting("ROOT_REGION"), description=sub.description.strip(),
        employer=sub.employer.strip(), amount_owed_fen=sub.amount_owed_fen, workers_affected=sub.workers_affected,
        lat=sub.lat, lng=sub.lng, anonymous=sub.anonymous,
        contact_name="" if sub.anonymous else sub.contact_name.strip(),
        contact_phone="" if sub.anonymous or not sub.contact_phone else normalise_phone(sub.contact_phone),
        member_id=sub.member_id, api_channel_id=sub.api_channel_id, urgent=sub.urgent, received_at=now,
        due_at=due.due_at, due_provisional=due.provisional, period_days=period, updated_at=now, open=True,
    )
    ticket.events.append(TicketEvent(at=now, action="submitted", to_status=Status.SUBMITTED, actor_kind="worker",
                                     target_region_code=ticket.handler_code, public=True))
    db.session.add(ticket)
    count(ticket.handler_code, Status.SUBMITTED, +1)
    stats.ticket_added(ticket, words)
    return ticket


def attach(ticket: Ticket, event: TicketEvent, stored: list[evidence.StoredFile], now: datetime) -> None:
    """Evidence files already stored, recorded with the event that brought them."""
    for item in stored:
        db.session.add(Attachment(ticket=ticket, event=event, stored_name=item.stored_name,
                                  original_name=item.original_name, content_type=item.content_type,
                                  size=item.size, created_at=now))
