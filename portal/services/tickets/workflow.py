"""The handling workflow: the one registry of actions on a ticket, and the transitions they make.

Each action names the statuses it starts from, who may take it (portal.services.tickets.access) and the
service call that does it; `take` is the one way to run one, for the staff views, the worker's pages, the
demo loader and the tests alike. Every change is one conditional UPDATE (… WHERE status = the status the
actor saw) plus an appended event, so two people acting on one ticket at once cannot both succeed, and the
history is never rewritten. Staff answer, dispatch down one level, return a case up with a reason, or report
a result up; the worker rates the reply, and an unsatisfied rating reopens the case once.

Closing the loop: a reply may promise an action by a date ("the employer pays by 10 December"). A satisfied
rating then keeps the case open, awaiting the promise, until that date has passed; staff close it after.
A worker who writes while it waits, or after it was closed, reopens it once; after that, what they write
starts a new request linked to this one, under the same query code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.database import begin_write
from portal.exceptions import DomainError, InvalidInput, InvalidTransition, NotFound
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import OPEN_STATUSES, Rating, Region, Role, Status, Ticket, TicketEvent, User
from portal.services import evidence, messages, regions, sla, stats
from portal.services.tickets import access
from portal.services.tickets.access import DECIDER, HANDLER, WORKER
from portal.services.tickets.counts import count
from portal.services.tickets.submission import MAX_FEN, Submission, attach, new_ticket, validate

MAX_NOTE = 4000
MAX_PROMISE_DAYS = 90  # a promise further off than a quarter is not one to keep a case open for
# Where the worker's message reopens the case once, and afterwards starts a linked new request.
AFTER_ANSWER = frozenset({Status.AWAITING_PROMISE, Status.CLOSED})


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


def _apply(ticket: Ticket, action: str, change: Change, now: datetime, actor: User | None,
           commit: bool = True) -> Ticket:
    """Make the change if the ticket is still in a status `action` starts from, and record its event; with
    commit=False the transaction stays open for the next step of one action (accept, then pass down)."""
    if ticket.status not in ACTIONS[action].starts_from:
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
        count(ticket.handler_code, ticket.status, -1)
        count(new_handler, new_status, +1)
    stats.ticket_changed(stats.facts(ticket), stats.facts(ticket, **values))
    event = TicketEvent(
        ticket_id=ticket.id, at=now, action=change.action, from_status=ticket.status, to_status=change.to_status,
        actor_id=actor.id if actor else None, actor_kind="staff" if actor else "worker",
        actor_region_code=actor.region_code if actor and actor.role is Role.STAFF else None,
        target_region_code=change.target, note=change.note.strip(), public=change.public)
    db.session.add(event)
    attach(ticket, event, change.files, now)
    messages.ticket_changed(ticket, event, ticket.status, now)  # the worker's text, if they asked for one
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    db.session.refresh(ticket)
    return ticket


def _required(note: str, field_name: str = "note") -> str:
    if not note.strip():
        raise InvalidInput(fields={field_name: _l("Please write a few words.")})
    return note


def _recovered(recovered_fen: int | None) -> dict:
    if recovered_fen is None:
        return {}
    if not 0 <= recovered_fen < MAX_FEN:
        raise InvalidInput(fields={"recovered": _l("Enter the amount in yuan, for example 3500.")})
    return {"amount_recovered_fen": recovered_fen}


def _reopened(ticket: Ticket, now: datetime) -> dict:
    """A reopened case gets a new reply period from now, once; the old answer's promise goes with it."""
    period, due = sla.reply_deadline(ticket.kind, ticket.urgent, now)
    return {"reopen_count": 1, "due_at": due.due_at, "due_provisional": due.provisional, "period_days": period,
            "replied_at": None, "promised_by": None, "closed_at": None}


def promise_pending(ticket: Ticket, now: datetime) -> bool:
    """The reply promised an action by a date that has not passed yet (Shanghai calendar, the date included)."""
    return ticket.promised_by is not None and sla.local_date(now) <= ticket.promised_by


def promise_window(now: datetime) -> tuple[date, date]:
    """The dates a reply may promise an action by: from today to MAX_PROMISE_DAYS ahead (Shanghai calendar)."""
    today = sla.local_date(now)
    return today, today + timedelta(days=MAX_PROMISE_DAYS)


def _promise(promised_by: date | None, now: datetime) -> dict:
    """The promised date a reply carries, within promise_window, or none."""
    first, last = promise_window(now)
    if promised_by is not None and not first <= promised_by <= last:
        raise InvalidInput(fields={"promised_by": _l("Choose a date from today to %(num)d days ahead.",
                                                     num=MAX_PROMISE_DAYS)})
    return {"promised_by": promised_by}


# ----- the steps: each is (ticket, actor, now, **inputs). `take` began the write transaction (but for
# add_information, which re-encodes photos first) and checked who the actor is and that the step is possible.

def _accepted(ticket: Ticket) -> Change:
    return Change("accepted", Status.ACCEPTED if ticket.status is Status.SUBMITTED else Status.IN_PROGRESS)


def _accept(ticket: Ticket, user: User, now: datetime) -> Ticket:
    return _apply(ticket, "accept", _accepted(ticket), now, user)


def _below(ticket: Ticket, target: str) -> Region:
    region = db.session.get(Region, target or "")
    if region is None or region.parent_code != ticket.handler_code:
        raise InvalidInput(fields={"target": _l("Choose a union directly below yours.")})
    return region


def _accept_and_dispatch(ticket: Ticket, user: User, now: datetime, *, target: str, note: str = "") -> Ticket:
    """Accept and pass down in one transaction (the history shows both steps): most cases that reach a union
    are for a union below it, and one press is one decision."""
    _below(ticket, target)  # before anything changes
    _apply(ticket, "accept", _accepted(ticket), now, user, commit=False)
    return _dispatch(ticket, user, now, target=target, note=note)


def _dispatch(ticket: Ticket, user: User, now: datetime, *, target: str, note: str = "") -> Ticket:
    """Down one level only (逐级下派), to a union directly below the handling one."""
    region = _below(ticket, target)
    change = Change("dispatched", Status.DISPATCHED, note, public=False, target=region.code,
                    values={"handler_code": region.code, "dispatched_at": ticket.dispatched_at or now})
    return _apply(ticket, "dispatch", change, now, user)


def _up(ticket: Ticket, action: str, to_status: Status, note: str) -> Change:
    """Hand the case to the union above the handling one (逐级反馈)."""
    parent = db.session.get(Region, ticket.handler_code).parent_code
    return Change(action, to_status, note, public=False, target=parent, values={"handler_code": parent})


def _return_up(ticket: Ticket, user: User, now: datetime, *, reason: str) -> Ticket:
    """A case that is not this union's goes back to the one above, with the reason."""
    change = _up(ticket, "returned_up", Status.RETURNED_UP, _required(reason, "reason"))
    return _apply(ticket, "return_up", change, now, user)


def _report_up(ticket: Ticket, user: User, now: datetime, *, result: str) -> Ticket:
    """A union below reports its result; the union above replies to the worker or sends it down again."""
    return _apply(ticket, "report_up", _up(ticket, "reported_up", Status.IN_PROGRESS, _required(result)), now, user)


def _reply(ticket: Ticket, user: User, now: datetime, *, text: str, recovered_fen: int | None = None,
           promised_by: date | None = None) -> Ticket:
    """The answer the worker reads; `promised_by` when it promises an action by a date (the text says what)."""
    values = {"replied_at": now} | _recovered(recovered_fen) | _promise(promised_by, now)
    return _apply(ticket, "reply", Change("replied", Status.REPLIED, _required(text), values=values), now, user)


def _ask_information(ticket: Ticket, user: User, now: datetime, *, question: str) -> Ticket:
    """Ask the worker for something the answer needs (a contract, pay slips, dates); the worker reads it and
    answers with "add information". The case stays in the status it was in."""
    return _apply(ticket, "ask_information", Change("more_information_asked", None, _required(question, "question")),
                  now, user)


def _request_extension(ticket: Ticket, user: User, now: datetime, *, days: int, reason: str) -> Ticket:
    """Ask the level above for a longer period (at most 30 working days in all)."""
    if not ticket.period_days < days <= sla.MAX_EXTENDED_DAYS:
        raise InvalidInput(fields={"days": _l("Choose more than %(now)d and at most %(max)d working days.",
                                              now=ticket.period_days, max=sla.MAX_EXTENDED_DAYS)})
    change = Change("extension_requested", Status.EXTENSION_REQUESTED, _required(reason, "reason"), public=False)
    change.note = f"{days}: {change.note.strip()}"
    return _apply(ticket, "request_extension", change, now, user)


def _decide_extension(ticket: Ticket, user: User, now: datetime, *, approve: bool, note: str = "") -> Ticket:
    """The union above the handling one decides; the new period counts from the day of receipt."""
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
    return _apply(ticket, "decide_extension", change, now, user)


def _rating_change(ticket: Ticket, rating: Rating | str, comment: str, now: datetime, action: str) -> Change:
    """Satisfied closes, or awaits a promise not yet due; unsatisfied reopens once, then closes with the
    rating kept."""
    if rating not in {r.value for r in Rating} | set(Rating):
        raise InvalidInput(fields={"rating": _l("Choose one.")})
    rating = Rating(rating)
    if len(comment) > MAX_NOTE:
        raise InvalidInput(fields={"comment": _l("Use at most %(num)d characters.", num=MAX_NOTE)})
    values = {"rating": rating, "rating_comment": comment.strip()}
    if rating is Rating.UNSATISFIED and ticket.reopen_count == 0:
        return Change(action, Status.REOPENED, comment, values=values | _reopened(ticket, now))
    if rating is not Rating.UNSATISFIED and promise_pending(ticket, now):
        return Change(action, Status.AWAITING_PROMISE, comment, values=values)
    return Change(action, Status.CLOSED, comment, values=values | {"closed_at": now})


def _rate(ticket: Ticket, _worker: None, now: datetime, *, rating: Rating | str, comment: str = "") -> Ticket:
    """The worker rates the reply (the return visit done by the worker)."""
    return _apply(ticket, "rate", _rating_change(ticket, rating, comment, now, "rated"), now, None)


def _return_visit(ticket: Ticket, user: User, now: datetime, *, rating: Rating | str, comment: str = "") -> Ticket:
    """Staff record what the worker said on the return-visit call; a satisfied case then waits to be closed."""
    change = _rating_change(ticket, rating, comment, now, "return_visit")
    if change.to_status is Status.CLOSED:
        change.to_status = Status.RETURN_VISIT
        change.values.pop("closed_at")
    return _apply(ticket, "return_visit", change, now, user)


def _close(ticket: Ticket, user: User, now: datetime, *, recovered_fen: int | None = None) -> Ticket:
    """Close after the return visit, or once the promised date has passed; for unpaid wages, record what was
    recovered."""
    values = {"closed_at": now} | _recovered(recovered_fen)
    return _apply(ticket, "close", Change("closed", Status.CLOSED, values=values), now, user)


def _reopen(ticket: Ticket, user: User, now: datetime, *, reason: str) -> Ticket:
    """The union reopens a closed case once, or one awaiting a promise the worker says was not kept (the
    worker's unsatisfied rating, or their message, does the same)."""
    change = Change("reopened", Status.REOPENED, _required(reason, "reason"), values=_reopened(ticket, now))
    return _apply(ticket, "reopen", change, now, user)


def _withdraw(ticket: Ticket, _worker: None, now: datetime, *, reason: str = "") -> Ticket:
    """The worker withdraws the request, before the union accepts it."""
    return _apply(ticket, "withdraw", Change("withdrawn", Status.WITHDRAWN, reason, values={"closed_at": now}),
                  now, None)


def _add_information(ticket: Ticket, _worker: None, now: datetime, *, text: str,
                     uploads: list[evidence.Upload] = ()) -> Ticket:
    """The worker adds a message, and perhaps evidence. While the case is handled or answered the status
    stays; while it awaits a promise or after it closed, the message says the matter is not settled: it
    reopens the case once, and afterwards starts a new request linked to this one (`ticket.follow_up`)."""
    ready, problems = evidence.prepare(list(uploads))
    if problems:
        raise InvalidInput(fields=problems)
    if len(ticket.attachments) + len(ready) > evidence.MAX_FILES * 2:
        raise InvalidInput(fields={"evidence": _l("This case already has as many files as it can hold.")})
    text = _required(text)
    # jieba's first call takes a second: a new request's hot words are found before the write lock
    words = stats.hot_words_of(text.strip()) if ticket.reopen_count and ticket.status in AFTER_ANSWER else []
    stored = evidence.store(ready)  # photos are re-encoded before the write lock, not under it
    try:
        begin_write()  # re-reads the ticket: the status decides what the message does
        access.require(WORKER, ticket, None)
        ACTIONS["add_information"].possible(ticket, now)
        if ticket.status not in AFTER_ANSWER:
            change = Change("information_added", None, text, files=stored)
        elif ticket.reopen_count == 0:
            change = Change("reopened_with_information", Status.REOPENED, text, files=stored,
                            values=_reopened(ticket, now))
        else:
            return _follow_up(ticket, now, text, stored, words)
        return _apply(ticket, "add_information", change, now, None)
    except BaseException:
        db.session.rollback()
        evidence.remove(stored)
        raise


def _follow_up(ticket: Ticket, now: datetime, text: str, stored: list[evidence.StoredFile],
               words: list[str]) -> Ticket:
    """A new request about the same matter, from the worker's message, followed with the same query code; the
    old case closes (if it was awaiting a promise) and its history names the new number."""
    sub = Submission(kind=ticket.kind, category=ticket.category, description=text, place_code=ticket.place_code,
                     employer=ticket.employer, amount_owed_fen=ticket.amount_owed_fen,
                     workers_affected=ticket.workers_affected, anonymous=ticket.anonymous,
                     contact_name=ticket.contact_name, contact_phone=ticket.contact_phone,
                     member_id=ticket.member_id)
    if problems := validate(sub):  # what any request may hold; here only the worker's text can fail
        raise InvalidInput(fields={"text" if name == "description" else name: why for name, why in problems.items()})
    new = new_ticket(sub, None, "", now, words or stats.hot_words_of(text.strip()))
    new.query_code_hash, new.follows_id = ticket.query_code_hash, ticket.id
    attach(new, new.events[0], stored, now)
    try:
        db.session.flush()
        messages.subscriptions.continue_on(ticket, new)
    except IntegrityError:  # another press of Send continued this request first
        db.session.rollback()
        raise InvalidTransition(_l("This request was already continued as a new one.")) from None
    change = Change("followed_up", Status.CLOSED if ticket.status is not Status.CLOSED else None, new.number,
                    values={"closed_at": ticket.closed_at or now})
    return _apply(ticket, "add_information", change, now, None)


def _merge(ticket: Ticket, user: User, now: datetime, *, into: str) -> Ticket:
    """Close a duplicate into another open case this union can see (named by its number)."""
    target = access.get_visible_by_number(into, user)
    if target.id == ticket.id or not target.is_open:
        raise InvalidInput(fields={"into": _l("Choose another open case.")})
    change = Change("merged", Status.MERGED, target.number, values={"merged_into_id": target.id, "closed_at": now})
    return _apply(ticket, "merge", change, now, user)


# ----- the registry

def _always(ticket: Ticket, now: datetime) -> None:
    return None


def _has_union_below(ticket: Ticket, now: datetime) -> None:
    if not regions.children(ticket.handler_code):
        raise InvalidInput(fields={"target": _l("Choose a union directly below yours.")})


def _has_union_above(ticket: Ticket, now: datetime) -> None:
    if db.session.get(Region, ticket.handler_code).parent_code is None:
        raise InvalidTransition(_l("The root union has no union above it."))


def _not_reopened(ticket: Ticket, now: datetime) -> None:
    if ticket.reopen_count:
        raise InvalidTransition(_l("This case was reopened once already."))


def _promise_due(ticket: Ticket, now: datetime) -> None:
    """A case awaiting a promise stays open for the worker until the promised date has passed."""
    if ticket.status is Status.AWAITING_PROMISE and promise_pending(ticket, now):
        raise InvalidTransition(_l("The promised date has not passed yet: the worker may still write."))


def _not_continued(ticket: Ticket, now: datetime) -> None:
    """A closed request continues once; after that the worker writes on the new one."""
    if ticket.follow_up is not None:
        raise InvalidTransition(_l("This request continues as request %(number)s.", number=ticket.follow_up.number))


@dataclass(frozen=True)
class Action:
    """One thing that can be done to a ticket."""

    name: str
    starts_from: frozenset[Status]
    by: str  # access.HANDLER, access.DECIDER or access.WORKER
    run: Callable[..., Ticket]  # (ticket, actor, now, **inputs)
    possible: Callable[[Ticket, datetime], None] = _always  # raises the DomainError that says why not
    locks_first: bool = True  # False: `run` does slow work (files) before it begins the write itself


S = Status
OPEN = frozenset(OPEN_STATUSES)
ACTIONS = {a.name: a for a in (  # in the order the staff page offers them
    Action("accept", frozenset({S.SUBMITTED, S.DISPATCHED, S.RETURNED_UP, S.REOPENED}), HANDLER, _accept),
    Action("accept_and_dispatch", frozenset({S.SUBMITTED, S.DISPATCHED, S.RETURNED_UP, S.REOPENED}), HANDLER,
           _accept_and_dispatch, _has_union_below),
    Action("dispatch", frozenset({S.ACCEPTED, S.IN_PROGRESS, S.RETURNED_UP}), HANDLER, _dispatch, _has_union_below),
    Action("reply", frozenset({S.ACCEPTED, S.IN_PROGRESS}), HANDLER, _reply),
    Action("report_up", frozenset({S.IN_PROGRESS}), HANDLER, _report_up, _has_union_above),
    Action("return_up", frozenset({S.DISPATCHED, S.IN_PROGRESS}), HANDLER, _return_up, _has_union_above),
    Action("ask_information", frozenset({S.ACCEPTED, S.IN_PROGRESS}), HANDLER, _ask_information),
    Action("request_extension", frozenset({S.ACCEPTED, S.IN_PROGRESS}), HANDLER, _request_extension),
    Action("decide_extension", frozenset({S.EXTENSION_REQUESTED}), DECIDER, _decide_extension),
    Action("return_visit", frozenset({S.REPLIED}), HANDLER, _return_visit),
    Action("close", frozenset({S.RETURN_VISIT, S.AWAITING_PROMISE}), HANDLER, _close, _promise_due),
    Action("reopen", frozenset({S.CLOSED, S.AWAITING_PROMISE}), HANDLER, _reopen, _not_reopened),
    Action("merge", OPEN, HANDLER, _merge),
    # the worker's own
    Action("rate", frozenset({S.REPLIED}), WORKER, _rate),
    Action("withdraw", frozenset({S.SUBMITTED}), WORKER, _withdraw),
    Action("add_information", OPEN | {S.CLOSED}, WORKER, _add_information, _not_continued, locks_first=False),
)}
STAFF_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.by != WORKER)
WORKER_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.by == WORKER)


def take(name: str, ticket: Ticket, actor: User | None, now: datetime, **inputs) -> Ticket:
    """Run the action `name` on the ticket for `actor` (None: the worker, whose claim the caller checked).

    Who acts and whether the step is possible are checked inside the write transaction, on the ticket as it
    is now (beginning it re-reads the ticket), and the change is one conditional UPDATE on that status."""
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound()
    if action.locks_first:
        begin_write()
    access.require(action.by, ticket, actor)
    action.possible(ticket, now)
    return action.run(ticket, actor, now, **inputs)


def _offered(action: Action, ticket: Ticket, now: datetime) -> bool:
    if ticket.status not in action.starts_from:
        return False
    try:
        action.possible(ticket, now)
    except DomainError:
        return False
    return True


def staff_actions(ticket: Ticket, user: User, now: datetime) -> list[str]:
    """The actions this staff member can take on the ticket now, for the buttons on its page."""
    return [name for name in STAFF_ACTIONS
            if access.may_take(ACTIONS[name].by, ticket, user) and _offered(ACTIONS[name], ticket, now)]


def worker_actions(ticket: Ticket, now: datetime) -> list[str]:
    """What the worker can do on the tracking page now (rate, withdraw, add information)."""
    return [name for name in WORKER_ACTIONS if _offered(ACTIONS[name], ticket, now)]


def what_writing_does(ticket: Ticket) -> str:
    """What the worker's message will do to the case now, for the form to say before it is sent:
    "adds" (the status stays), "reopens" (once), or "continues" (a new linked request)."""
    if ticket.status not in AFTER_ANSWER:
        return "adds"
    return "continues" if ticket.reopen_count else "reopens"
