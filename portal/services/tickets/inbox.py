"""The staff inbox: the cases of a jurisdiction, filtered and paged, with per-status counts.

It opens on the cases waiting for the viewer's own union to accept them (new, passed down, passed back, reopened),
with the other views beside it, each with its count: in hand, overdue, all open. Open cases come in deadline order
straight from the worklist index (no sorting), others newest first; the counts come from TicketCount
(portal.services.tickets.counts), never from counting tickets, except overdue, which depends on the hour and
reads the open cases past their deadline through the deadline index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select, true

from portal.extensions import db
from portal.models import OPEN_STATUSES, Kind, Status, Ticket, TicketCount, User
from portal.services import regions, sla, taxonomy
from portal.services.tickets import access
from portal.services.tickets.workflow import ACTIONS

TO_ACCEPT = ACTIONS["accept"].starts_from  # what the union has been given and not yet taken on
VIEWS = ("accept", "hand", "overdue", "open")  # the inbox's tabs, in their order; "accept" is where it opens
# Overdue is counted from the cases themselves, up to this many: a province may have tens of thousands, and
# counting them all took 0.2 s at a million tickets; "99+" says enough.
OVERDUE_SHOWN = 99


@dataclass(frozen=True)
class InboxQuery:
    status: str = "open"  # "open" (the worklist), "closed", "all", or one Status value
    kind: str = ""
    category: str = ""
    overdue: bool = False
    level: str = ""  # "own": handled by the user's union itself; "below": by a union below it
    search: str = ""
    page: int = 1
    view: str = "open"  # one of VIEWS; it narrows the open cases, so a status filter or a search sets it aside


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
    replied_at: datetime | None  # answered: no longer due soon or overdue (sla.deadline_flags)
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
    view: str = ""  # the view shown, "" when a status filter or search set it aside
    views: dict[str, int] | None = None  # each view's count, in VIEWS order

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // PER_PAGE))

    def shown_count(self, view: str) -> str:
        """A tab's count as shown: "99+" once overdue passes OVERDUE_SHOWN."""
        n = (self.views or {}).get(view, 0)
        return f"{OVERDUE_SHOWN}+" if view == "overdue" and n > OVERDUE_SHOWN else str(n)


PER_PAGE = 20


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


def shown_view(query: InboxQuery) -> str:
    """The view that applies: views narrow the open cases, so another status or a search sets them aside."""
    return query.view if query.view in VIEWS and query.status in ("", "open") and not query.search.strip() else ""


def _view(view: str, own: str, now: datetime) -> list[ColumnElement[bool]]:
    """What a view asks of the open cases the viewer may see; `own` is the viewer's union."""
    if view == "accept":
        return [Ticket.handler_code == own, Ticket.status.in_(TO_ACCEPT)]
    if view == "hand":
        return [Ticket.handler_code == own, Ticket.status.not_in(TO_ACCEPT)]
    if view == "overdue":
        return _overdue(now)
    return []


def _overdue(now: datetime) -> list[ColumnElement[bool]]:
    """Open, not answered and past the deadline (an answered case met or missed it when it was answered)."""
    return [Ticket.open == true(), Ticket.replied_at.is_(None), sla.past_due(Ticket.due_at, now)]


def view_counts(user: User, now: datetime, in_scope: dict[Status, int] | None = None) -> dict[str, int]:
    """How many cases each view holds, scoped exactly as its list: TicketCount's rows of the own union and of the
    jurisdiction (`in_scope`, when the caller has read them already), and the open cases past their deadline,
    read until OVERDUE_SHOWN + 1 (more: "99+")."""
    scope = access.scope_of(user)
    if scope is None:
        return dict.fromkeys(VIEWS, 0)

    def by_status(where: ColumnElement[bool]) -> dict[Status, int]:
        return {Status(st): int(n or 0) for st, n in db.session.execute(
            select(TicketCount.status, func.sum(TicketCount.n))
            .where(TicketCount.status.in_(list(OPEN_STATUSES)), where).group_by(TicketCount.status))}

    own = by_status(TicketCount.handler_code == scope)
    everywhere = in_scope if in_scope is not None else by_status(regions.within(TicketCount.handler_code, scope))
    overdue = db.session.scalar(select(func.count()).select_from(
        select(Ticket.id).where(access.visible_to(user), *_overdue(now)).limit(OVERDUE_SHOWN + 1).subquery()))
    return {"accept": sum(n for st, n in own.items() if st in TO_ACCEPT),
            "hand": sum(n for st, n in own.items() if st not in TO_ACCEPT),
            "overdue": int(overdue or 0), "open": sum(n for st, n in everywhere.items() if st in OPEN_STATUSES)}


def inbox(user: User, query: InboxQuery, now: datetime) -> InboxPage:
    """The cases a staff member may see: open ones by nearest deadline (read in index order, no sorting),
    others newest first. Per-status counts come from TicketCount, not from counting tickets."""
    scope = access.scope_of(user)
    if scope is None:
        return InboxPage([], 0, 1, False, {}, "", dict.fromkeys(VIEWS, 0))
    statuses, status_condition = _statuses(query.status)
    conditions = [access.visible_to(user), *_level(Ticket.handler_code, user, query.level)]
    if status_condition is not None:
        conditions.append(status_condition)
    view = shown_view(query)
    conditions += _view(view, scope, now)
    filters = []
    if query.kind in {k.value for k in Kind}:
        filters.append(Ticket.kind == Kind(query.kind))
    if query.category in taxonomy.CATEGORIES:
        filters.append(Ticket.category == query.category)
    if query.overdue:
        filters += _overdue(now)
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
    views = view_counts(user, now, counts if not filters and not query.level else None)
    if filters or (view == "overdue" and query.level):
        total = None
    elif view == "overdue":
        total = views[view] if views[view] <= OVERDUE_SHOWN else None  # more: pages without a last one
    elif view in ("accept", "hand"):  # the view's own count; its cases are the own union's
        total = views[view] if query.level != "below" else 0
    else:
        total = sum(counts.get(st, 0) for st in statuses)
    page = max(1, query.page) if total is None else min(max(1, query.page), max(1, -(-total // PER_PAGE)))
    order = (Ticket.due_at, Ticket.id) if statuses <= OPEN_STATUSES else (Ticket.received_at.desc(), Ticket.id.desc())
    rows = db.session.execute(select(Ticket.id, Ticket.number, Ticket.category, Ticket.status, Ticket.due_at,
                                     Ticket.due_provisional, Ticket.replied_at, Ticket.handler_code, Ticket.place_code)
                              .where(*conditions, *filters).order_by(*order)
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()  # one more: a next page?
    items = [InboxItem(*row[:7], regions.place(row.handler_code), regions.place(row.place_code))
             for row in rows[:PER_PAGE]]
    return InboxPage(items, total, page, len(rows) > PER_PAGE, counts, view, views)
