"""Supervision (督办) of deadlines: reminders, supervision notices and public notices.

`sweep(now)` is idempotent and safe to run every minute, even twice at once: each notice is inserted
with ON CONFLICT DO NOTHING against a unique (ticket, kind, deadline) key. Notices go to the union above
the one handling the case; the root union supervises itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.database import command
from portal.extensions import db
from portal.models import OPEN_STATUSES, Notice, NoticeKind, Region, Ticket, User
from portal.services import regions, sla

PUBLIC_AFTER_WORKING_DAYS = 5
# Candidates for a reminder: due within this many calendar days (a long holiday can hide working days).
LOOKAHEAD = timedelta(days=12)


def notices_due(ticket: Ticket, now: datetime) -> list[NoticeKind]:
    """The notices an open ticket has earned by `now`."""
    due = sla.of(ticket)
    if not sla.is_overdue(due, now):
        return [NoticeKind.REMINDER] if sla.is_due_soon(due, now) else []
    earned = [NoticeKind.SUPERVISION]
    public_day, _ = sla.add_working_days(due.last_day, PUBLIC_AFTER_WORKING_DAYS)
    if sla.local_date(now) >= public_day:
        earned.append(NoticeKind.PUBLIC)
    return earned


@dataclass(frozen=True)
class SweepResult:
    checked: int
    created: dict[NoticeKind, int]


@command
def sweep(now: datetime) -> SweepResult:
    # Only cases still awaiting their answer: an answered one may wait weeks for a promised action.
    tickets = db.session.scalars(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.replied_at.is_(None),
                                                      Ticket.due_at <= now + LOOKAHEAD)
                                 .order_by(Ticket.id)).all()  # notices in case order, whichever index is read
    parents = dict(db.session.execute(select(Region.code, Region.parent_code)
                                      .where(Region.code.in_({t.handler_code for t in tickets}))).all())
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    created = dict.fromkeys(NoticeKind, 0)
    for ticket in tickets:
        for kind in notices_due(ticket, now):
            supervisor = parents.get(ticket.handler_code) or ticket.handler_code
            inserted = db.session.execute(insert(Notice).values(
                ticket_id=ticket.id, kind=kind, region_code=supervisor, due_at=ticket.due_at, created_at=now,
            ).on_conflict_do_nothing(index_elements=["ticket_id", "kind", "due_at"]).returning(Notice.id))
            created[kind] += len(inserted.all())  # no row comes back when the notice already existed
    db.session.commit()
    return SweepResult(len(tickets), created)


@dataclass(frozen=True, slots=True)
class NoticeLine:
    ticket_id: int
    number: str
    kind: NoticeKind  # the case's latest notice
    handler: regions.Place  # the union whose deadline passed
    count: int  # the case's notices in all (a reminder, then supervision, then the public notice …)


def for_union(user: User, limit: int = 20) -> list[NoticeLine]:
    """The cases with notices addressed to this staff member's union, one line a case with its latest notice,
    the case whose latest notice is newest first: a sweep every minute over a long-overdue case must not fill
    the list with near-identical rows."""
    if not user.region_code:
        return []
    latest = (select(Notice.ticket_id, func.max(Notice.id).label("last_id"), func.count().label("n"))
              .where(Notice.region_code == user.region_code).group_by(Notice.ticket_id).subquery())
    rows = db.session.execute(select(Notice.ticket_id, Ticket.number, Notice.kind, Ticket.handler_code, latest.c.n)
                              .join(latest, Notice.id == latest.c.last_id)
                              .join(Ticket, Ticket.id == Notice.ticket_id)
                              .order_by(Notice.id.desc()).limit(limit))
    return [NoticeLine(row.ticket_id, row.number, row.kind, regions.place(row.handler_code), row.n) for row in rows]
