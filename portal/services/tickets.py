"""Grievance tickets: submission, the query code, jurisdiction scoping and the handling workflow.

Every change is one conditional UPDATE (… WHERE status = the status the actor saw) plus an appended event,
so two people acting on one ticket at once cannot both succeed, and the history is never rewritten.
New tickets land at the root union; staff answer, dispatch down one level, return a case up with a reason,
or report a result up; the worker rates the reply, and an unsatisfied rating reopens the case once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, delete, false, func, or_, select, true, update
from sqlalchemy import insert as insert_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from portal.database import begin_write, command
from portal.exceptions import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    OPEN_STATUSES,
    Attachment,
    Channel,
    Counter,
    Kind,
    Rating,
    Region,
    Role,
    Status,
    Ticket,
    TicketCount,
    TicketEvent,
    User,
)
from portal.services import evidence, regions, sla, stats, taxonomy
from portal.services.users import normalise_phone
from portal.settings import setting

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000
MAX_FEN = 10**12  # ten billion yuan: anything above is a typing error
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 16  # 80 bits


# ------------------------------------------------------------------------------------------ query codes

def query_code_for(token: str) -> str:
    """The worker's query code, derived from the form token with the secret key, so a retried submission
    shows the same code again although only its hash is stored."""
    digest = hmac.new(setting("SECRET_KEY").encode(), b"query-code:" + token.encode(),
                      hashlib.sha256).digest()
    number = int.from_bytes(digest[:10])
    chars = [CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH)]
    return "-".join("".join(chars[i:i + 4]) for i in range(0, CODE_LENGTH, 4))


def normalise_code(raw: str) -> str:
    """Case-insensitive, spaces and dashes ignored, and the look-alikes O→0, I/L→1 read as Crockford does."""
    text = re.sub(r"[\s\-]", "", (raw or "").upper()).translate(str.maketrans("OIL", "011"))
    return text if len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text) else ""


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


_DUMMY_HASH = "0" * 64


def find_by_code(number: str, code: str) -> Ticket:
    """The ticket with this number and query code. A wrong number and a wrong code fail alike, in
    constant time."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == (number or "").strip().upper()[:24]))
    stored = ticket.query_code_hash if ticket else _DUMMY_HASH
    if not hmac.compare_digest(stored, _code_hash(code)) or ticket is None or not normalise_code(code):
        raise NotFound(_l("No request matches this ticket number and query code."))
    return ticket


def get_by_number(number: str) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == (number or "")[:24]))
    if ticket is None:
        raise NotFound()
    return ticket


def for_member(member_id: int) -> list[Ticket]:
    """A signed-in member's own requests, newest first."""
    return list(db.session.scalars(select(Ticket).where(Ticket.member_id == member_id)
                                   .order_by(Ticket.received_at.desc()).limit(100)))


# What the worker sees of the history: internal steps (extension requests and refusals) are left out, and
# a note only when it was written for the worker.
WORKER_VISIBLE = frozenset({"submitted", "accepted", "dispatched", "returned_up", "reported_up", "replied",
                            "extension_approved", "rated", "return_visit", "closed", "withdrawn", "merged",
                            "information_added", "reopened"})


def worker_timeline(ticket: Ticket) -> list[TicketEvent]:
    return [e for e in ticket.events if e.action in WORKER_VISIBLE]


# ------------------------------------------------------------------------------------------- submission

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


def next_number(now: datetime) -> str:
    """A readable ticket number, e.g. 44-20261120-0007: root region, Shanghai date, that day's sequence."""
    day = sla.local_date(now).strftime("%Y%m%d")
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    statement = (insert(Counter).values(name=f"ticket:{day}", value=1)
                 .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
                 .returning(Counter.value))
    sequence = db.session.execute(statement).scalar_one()
    return f"{setting('ROOT_REGION')}-{day}-{sequence:04d}"


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
        ticket = _new_ticket(sub, token, code, now, words)
        _attach(ticket, ticket.events[0], stored, now)
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


def _new_ticket(sub: Submission, token: str, code: str, now: datetime, words: list[str]) -> Ticket:
    period = sla.reply_days(sub.kind, sub.urgent)
    due = sla.deadline(now, period)
    ticket = Ticket(
        number=next_number(now), query_code_hash=_code_hash(code), submission_token=token, kind=sub.kind,
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
    _count(ticket.handler_code, Status.SUBMITTED, +1)
    stats.ticket_added(ticket, words)
    return ticket


def _count(handler_code: str, status: Status, delta: int) -> None:
    """Keep TicketCount in step, in the caller's transaction: one atomic upsert, safe under concurrency."""
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    db.session.execute(insert(TicketCount).values(handler_code=handler_code, status=status, n=delta)
                       .on_conflict_do_update(index_elements=["handler_code", "status"],
                                              set_={"n": TicketCount.n + delta}))


@command
def recount() -> int:
    """Rebuild TicketCount from the tickets themselves (after an import, or to check it); returns rows."""
    db.session.execute(delete(TicketCount))
    rows = db.session.execute(select(Ticket.handler_code, Ticket.status, func.count())
                              .group_by(Ticket.handler_code, Ticket.status)).all()
    if rows:
        db.session.execute(insert_(TicketCount), [{"handler_code": h, "status": st, "n": n} for h, st, n in rows])
    db.session.commit()
    return len(rows)


def _attach(ticket: Ticket, event: TicketEvent, stored: list[evidence.StoredFile], now: datetime) -> None:
    for item in stored:
        db.session.add(Attachment(ticket=ticket, event=event, stored_name=item.stored_name,
                                  original_name=item.original_name, content_type=item.content_type,
                                  size=item.size, created_at=now))


# ------------------------------------------------------------------------------------------------ scope

def visible_to(user: User) -> ColumnElement[bool]:
    """Staff see the tickets their union or a union below it handles; administrators see all."""
    if user.role is Role.ADMIN or (user.role is Role.STAFF and user.region_code == setting("ROOT_REGION")):
        # Every ticket lies within the root: no condition at all lets the database walk the worklist index
        # instead of sorting a province's open cases (4 s → 0.2 ms at a million tickets).
        return true()
    if user.role is Role.STAFF and user.region_code:
        return regions.within(Ticket.handler_code, user.region_code)
    return false()


def get_for_staff(ticket_id: int, user: User) -> Ticket:
    """Outside the user's jurisdiction a ticket does not exist (404), so its existence leaks nothing."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id, visible_to(user)))
    if ticket is None:
        raise NotFound()
    return ticket


# --------------------------------------------------------------------------------------------- workflow

S = Status
ALLOWED = {  # action → the statuses it may start from
    "accept": {S.SUBMITTED, S.DISPATCHED, S.RETURNED_UP, S.REOPENED},
    "dispatch": {S.ACCEPTED, S.IN_PROGRESS, S.RETURNED_UP},
    "return_up": {S.DISPATCHED, S.IN_PROGRESS},
    "report_up": {S.IN_PROGRESS},
    "reply": {S.ACCEPTED, S.IN_PROGRESS},
    "request_extension": {S.ACCEPTED, S.IN_PROGRESS},
    "decide_extension": {S.EXTENSION_REQUESTED},
    "return_visit": {S.REPLIED},
    "close": {S.RETURN_VISIT},
    "reopen": {S.CLOSED},
    "merge": set(OPEN_STATUSES),
    # the worker's own
    "rate": {S.REPLIED},
    "withdraw": {S.SUBMITTED},
    "add_information": set(OPEN_STATUSES),
}


@dataclass
class Change:
    """What one action does: its event, the new status and any other columns it sets."""

    action: str
    to_status: Status | None
    note: str = ""
    public: bool = True
    target: str | None = None
    values: dict = field(default_factory=dict)
    files: list[evidence.StoredFile] = field(default_factory=list)


def _apply(ticket: Ticket, allowed: set[Status], change: Change, now: datetime, actor: User | None,
           actor_kind: str) -> Ticket:
    if ticket.status not in allowed:
        raise InvalidTransition()
    if len(change.note) > MAX_NOTE or "\x00" in change.note:
        raise InvalidInput(fields={"note": _l("Use at most %(num)d characters.", num=MAX_NOTE)})
    values = {"updated_at": now, **change.values}
    new_status = change.to_status or ticket.status
    new_handler = values.get("handler_code", ticket.handler_code)
    values |= {"status": new_status, "open": new_status in OPEN_STATUSES}
    result = db.session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.status == ticket.status)
                                .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise InvalidTransition(_l("Someone else changed this case meanwhile. Please look at it again."))
    if (new_status, new_handler) != (ticket.status, ticket.handler_code):
        _count(ticket.handler_code, ticket.status, -1)
        _count(new_handler, new_status, +1)
    stats.ticket_changed(stats.facts(ticket), stats.facts(ticket, **values))
    event = TicketEvent(
        ticket_id=ticket.id, at=now, action=change.action, from_status=ticket.status, to_status=change.to_status,
        actor_id=actor.id if actor else None, actor_kind=actor_kind,
        actor_region_code=actor.region_code if actor and actor.role is Role.STAFF else None,
        target_region_code=change.target, note=change.note.strip(), public=change.public)
    db.session.add(event)
    _attach(ticket, event, change.files, now)
    db.session.commit()
    db.session.refresh(ticket)
    return ticket


def _handler_staff(ticket: Ticket, user: User) -> None:
    """Only the union handling the case acts on it; the unions above it can only watch and supervise."""
    if user.role is not Role.STAFF or user.region_code != ticket.handler_code:
        raise PermissionDenied(_l("Only the union handling this case can do this."))


def _required(note: str, field_name: str = "note") -> str:
    if not note.strip():
        raise InvalidInput(fields={field_name: _l("Please write a few words.")})
    return note


@command
def accept(ticket: Ticket, user: User, now: datetime) -> Ticket:
    _handler_staff(ticket, user)
    to = Status.ACCEPTED if ticket.status is Status.SUBMITTED else Status.IN_PROGRESS
    return _apply(ticket, ALLOWED["accept"], Change("accepted", to), now, user, "staff")


@command
def dispatch(ticket: Ticket, user: User, target_code: str, note: str, now: datetime) -> Ticket:
    """Down one level only (逐级下派), to a union directly below the handling one."""
    _handler_staff(ticket, user)
    target = db.session.get(Region, target_code or "")
    if target is None or target.parent_code != ticket.handler_code:
        raise InvalidInput(fields={"target": _l("Choose a union directly below yours.")})
    change = Change("dispatched", Status.DISPATCHED, note, public=False, target=target.code,
                    values={"handler_code": target.code, "dispatched_at": ticket.dispatched_at or now})
    return _apply(ticket, ALLOWED["dispatch"], change, now, user, "staff")


def _up(ticket: Ticket, user: User, action: str, to_status: Status, note: str) -> Change:
    """Hand the case to the union above the handling one (逐级反馈)."""
    _handler_staff(ticket, user)
    parent = db.session.get(Region, ticket.handler_code).parent_code
    if parent is None:
        raise InvalidTransition(_l("The root union has no union above it."))
    return Change(action, to_status, note, public=False, target=parent, values={"handler_code": parent})


@command
def return_up(ticket: Ticket, user: User, reason: str, now: datetime) -> Ticket:
    """A case that is not this union's goes back to the one above, with the reason."""
    change = _up(ticket, user, "returned_up", Status.RETURNED_UP, _required(reason, "reason"))
    return _apply(ticket, ALLOWED["return_up"], change, now, user, "staff")


@command
def report_up(ticket: Ticket, user: User, result: str, now: datetime) -> Ticket:
    """A union below reports its result; the union above replies to the worker or sends it down again."""
    change = _up(ticket, user, "reported_up", Status.IN_PROGRESS, _required(result))
    return _apply(ticket, ALLOWED["report_up"], change, now, user, "staff")


@command
def reply(ticket: Ticket, user: User, text: str, now: datetime, recovered_fen: int | None = None) -> Ticket:
    """The answer the worker reads."""
    _handler_staff(ticket, user)
    change = Change("replied", Status.REPLIED, _required(text), values={"replied_at": now} | _recovered(recovered_fen))
    return _apply(ticket, ALLOWED["reply"], change, now, user, "staff")


@command
def request_extension(ticket: Ticket, user: User, days: int, reason: str, now: datetime) -> Ticket:
    """Ask the level above for a longer period (at most 30 working days in all)."""
    _handler_staff(ticket, user)
    if not ticket.period_days < days <= sla.MAX_EXTENDED_DAYS:
        raise InvalidInput(fields={"days": _l("Choose more than %(now)d and at most %(max)d working days.",
                                              now=ticket.period_days, max=sla.MAX_EXTENDED_DAYS)})
    change = Change("extension_requested", Status.EXTENSION_REQUESTED, _required(reason, "reason"), public=False,
                    values={})
    change.note = f"{days}: {change.note.strip()}"
    return _apply(ticket, ALLOWED["request_extension"], change, now, user, "staff")


@command
def decide_extension(ticket: Ticket, user: User, approve: bool, note: str, now: datetime) -> Ticket:
    """The union above the handling one decides; the root union decides for itself."""
    handler = db.session.get(Region, ticket.handler_code)
    decider = handler.parent_code or handler.code
    if user.role is not Role.STAFF or user.region_code != decider:
        raise PermissionDenied(_l("Only the union above the handling one can decide."))
    if ticket.status is not Status.EXTENSION_REQUESTED:
        raise InvalidTransition()
    requested = next(e for e in reversed(ticket.events) if e.action == "extension_requested")
    values = {}
    if approve:
        days = int(requested.note.split(":", 1)[0])
        due = sla.deadline(ticket.received_at, days)
        values = {"period_days": days, "due_at": due.due_at, "due_provisional": due.provisional}
    change = Change("extension_approved" if approve else "extension_denied", requested.from_status, note,
                    public=approve, values=values)
    return _apply(ticket, ALLOWED["decide_extension"], change, now, user, "staff")


def _rating_change(ticket: Ticket, rating: Rating, comment: str, now: datetime, action: str) -> Change:
    """Satisfied closes; unsatisfied reopens once, then closes with the rating kept."""
    if len(comment) > MAX_NOTE:
        raise InvalidInput(fields={"comment": _l("Use at most %(num)d characters.", num=MAX_NOTE)})
    values = {"rating": rating, "rating_comment": comment.strip()}
    if rating is Rating.UNSATISFIED and ticket.reopen_count == 0:
        period = sla.reply_days(ticket.kind, ticket.urgent)
        due = sla.deadline(now, period)
        values |= {"reopen_count": 1, "due_at": due.due_at, "due_provisional": due.provisional,
                   "period_days": period, "replied_at": None}
        return Change(action, Status.REOPENED, comment, values=values)
    return Change(action, Status.CLOSED, comment, values=values | {"closed_at": now})


@command
def rate(ticket: Ticket, rating: Rating, comment: str, now: datetime) -> Ticket:
    """The worker rates the reply (the return visit done by the worker); the caller checked the code."""
    return _apply(ticket, ALLOWED["rate"], _rating_change(ticket, Rating(rating), comment, now, "rated"), now,
                  None, "worker")


@command
def record_return_visit(ticket: Ticket, user: User, rating: Rating, comment: str, now: datetime) -> Ticket:
    """Staff record what the worker said on the return-visit call; a satisfied case then waits to be closed."""
    _handler_staff(ticket, user)
    change = _rating_change(ticket, Rating(rating), comment, now, "return_visit")
    if change.to_status is Status.CLOSED:
        change.to_status = Status.RETURN_VISIT
        change.values.pop("closed_at")
    return _apply(ticket, ALLOWED["return_visit"], change, now, user, "staff")


@command
def close(ticket: Ticket, user: User, now: datetime, recovered_fen: int | None = None) -> Ticket:
    """Close after the return visit; for unpaid wages, record what was recovered."""
    _handler_staff(ticket, user)
    values = {"closed_at": now} | _recovered(recovered_fen)
    return _apply(ticket, ALLOWED["close"], Change("closed", Status.CLOSED, values=values), now, user, "staff")


@command
def reopen(ticket: Ticket, user: User, reason: str, now: datetime) -> Ticket:
    """The union reopens a closed case once (the worker's unsatisfied rating does the same)."""
    _handler_staff(ticket, user)
    if ticket.reopen_count:
        raise InvalidTransition(_l("This case was reopened once already."))
    period = sla.reply_days(ticket.kind, ticket.urgent)
    due = sla.deadline(now, period)
    change = Change("reopened", Status.REOPENED, _required(reason, "reason"), values={
        "reopen_count": 1, "closed_at": None, "due_at": due.due_at, "due_provisional": due.provisional,
        "period_days": period, "replied_at": None})
    return _apply(ticket, ALLOWED["reopen"], change, now, user, "staff")


def _recovered(recovered_fen: int | None) -> dict:
    if recovered_fen is None:
        return {}
    if not 0 <= recovered_fen < MAX_FEN:
        raise InvalidInput(fields={"recovered": _l("Enter the amount in yuan, for example 3500.")})
    return {"amount_recovered_fen": recovered_fen}


@command
def withdraw(ticket: Ticket, reason: str, now: datetime) -> Ticket:
    """The worker withdraws the request, before the union accepts it."""
    return _apply(ticket, ALLOWED["withdraw"], Change("withdrawn", Status.WITHDRAWN, reason,
                                                       values={"closed_at": now}), now, None, "worker")


def add_information(ticket: Ticket, text: str, now: datetime, uploads: list[evidence.Upload] = ()) -> Ticket:
    """The worker adds a message, and perhaps evidence, to an open case; the status does not change."""
    ready, problems = evidence.prepare(list(uploads))
    if problems:
        raise InvalidInput(fields=problems)
    if len(ticket.attachments) + len(ready) > evidence.MAX_FILES * 2:
        raise InvalidInput(fields={"evidence": _l("This case already has as many files as it can hold.")})
    stored = evidence.store(ready)
    try:
        begin_write()
        return _apply(ticket, ALLOWED["add_information"], Change("information_added", None, _required(text),
                                                                 files=stored), now, None, "worker")
    except BaseException:
        evidence.remove(stored)
        raise


@command
def merge(ticket: Ticket, user: User, into_id: int, now: datetime) -> Ticket:
    """Close a duplicate into another open case this union can see."""
    _handler_staff(ticket, user)
    target = get_for_staff(into_id, user)
    if target.id == ticket.id or not target.is_open:
        raise InvalidInput(fields={"into": _l("Choose another open case.")})
    change = Change("merged", Status.MERGED, target.number, values={"merged_into_id": target.id, "closed_at": now})
    return _apply(ticket, ALLOWED["merge"], change, now, user, "staff")


# ------------------------------------------------------------------------------------------------ inbox

@dataclass(frozen=True)
class InboxQuery:
    status: str = "open"  # "open" (the worklist), "closed", "all", or one Status value
    kind: str = ""
    category: str = ""
    overdue: bool = False
    level: str = ""  # "own": handled by the user's union itself; "below": by a union below it
    search: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A line of the inbox: the columns it shows, not a whole ticket (a third of the page's time went to
    loading twenty full tickets and their regions)."""

    id: int
    number: str
    category: str
    status: Status
    due_at: datetime
    due_provisional: bool
    handler: regions.Place
    place: regions.Place

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    total: int | None  # None with kind, category, overdue or search filters: counting them would read them all
    page: int
    more: bool  # a next page exists
    counts: dict[Status, int]  # per status in the jurisdiction (and level); empty when other filters apply

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // PER_PAGE))


PER_PAGE = 20


def _scope(user: User) -> str | None:
    if user.role is Role.ADMIN:
        return setting("ROOT_REGION")
    return user.region_code if user.role is Role.STAFF else None


def _level(column, user: User, level: str) -> list[ColumnElement[bool]]:
    if level == "own" and user.region_code:
        return [column == user.region_code]
    if level == "below" and user.region_code:
        return [column != user.region_code]
    return []


def _statuses(status: str) -> tuple[set[Status], ColumnElement[bool] | None]:
    if status in ("", "open"):
        return set(OPEN_STATUSES), Ticket.open == true()
    if status == "closed":
        return set(Status) - OPEN_STATUSES, Ticket.open == false()
    if status in {s.value for s in Status}:
        return {Status(status)}, Ticket.status == Status(status)
    return set(Status), None


def inbox(user: User, query: InboxQuery, now: datetime) -> InboxPage:
    """The cases a staff member may see: open ones by nearest deadline (read in index order, no sorting),
    others newest first. Per-status counts come from TicketCount, not from counting tickets."""
    scope = _scope(user)
    if scope is None:
        return InboxPage([], 0, 1, False, {})
    statuses, status_condition = _statuses(query.status)
    conditions = [visible_to(user), *_level(Ticket.handler_code, user, query.level)]
    if status_condition is not None:
        conditions.append(status_condition)
    filters = []
    if query.kind in {k.value for k in Kind}:
        filters.append(Ticket.kind == Kind(query.kind))
    if query.category in taxonomy.CATEGORIES:
        filters.append(Ticket.category == query.category)
    if query.overdue:
        filters += [Ticket.due_at <= now, Ticket.open == true()]
    if text := query.search.strip()[:100]:
        # autoescape: a % or _ typed by staff is matched literally, not as a wildcard
        filters.append(or_(Ticket.number.startswith(text.upper(), autoescape=True),
                           Ticket.employer.contains(text, autoescape=True),
                           Ticket.description.contains(text, autoescape=True)))
    counts = {} if filters else {Status(st): int(n) for st, n in db.session.execute(
        select(TicketCount.status, func.sum(TicketCount.n))
        .where(regions.within(TicketCount.handler_code, scope),
               *_level(TicketCount.handler_code, user, query.level))
        .group_by(TicketCount.status)) if n}
    total = None if filters else sum(counts.get(st, 0) for st in statuses)
    page = max(1, query.page) if total is None else min(max(1, query.page), max(1, -(-total // PER_PAGE)))
    order = (Ticket.due_at, Ticket.id) if statuses <= OPEN_STATUSES else (Ticket.received_at.desc(), Ticket.id.desc())
    rows = db.session.execute(select(Ticket.id, Ticket.number, Ticket.category, Ticket.status, Ticket.due_at,
                                     Ticket.due_provisional, Ticket.handler_code, Ticket.place_code)
                              .where(*conditions, *filters).order_by(*order)
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()  # one more: a next page?
    items = [InboxItem(*row[:6], regions.place(row.handler_code), regions.place(row.place_code))
             for row in rows[:PER_PAGE]]
    return InboxPage(items, total, page, len(rows) > PER_PAGE, counts)


def attachment_for_staff(ticket_id: int, attachment_id: int, user: User) -> Attachment:
    ticket = get_for_staff(ticket_id, user)
    found = next((a for a in ticket.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound()
    return found


def deadline_flags(ticket: Ticket, now: datetime) -> tuple[bool, bool]:
    """(due soon, overdue) for an open ticket; closed ones are neither."""
    if not ticket.is_open:
        return False, False
    due = sla.Deadline(ticket.due_at, ticket.due_provisional)
    return sla.is_due_soon(due, now), sla.is_overdue(due, now)


def staff_actions(ticket: Ticket, user: User) -> list[str]:
    """The actions this staff member can take on the ticket now, for the buttons on its page."""
    if user.role is not Role.STAFF:
        return []
    handler = db.session.get(Region, ticket.handler_code)
    decider = handler.parent_code or handler.code
    possible = []
    for action in ("accept", "dispatch", "reply", "report_up", "return_up", "request_extension",
                   "decide_extension", "return_visit", "close", "reopen", "merge"):
        if ticket.status not in ALLOWED[action]:
            continue
        if action == "decide_extension":
            if user.region_code == decider:
                possible.append(action)
        elif action == "reopen" and ticket.reopen_count:
            continue
        elif user.region_code == ticket.handler_code and not (
                action in {"return_up", "report_up"} and handler.parent_code is None) and not (
                action == "dispatch" and not regions.children(handler.code)):
            possible.append(action)
    return possible
