"""Tickets per handling union and status (TicketCount), kept in the same transaction as every change, so the
inbox's per-status counts never count tickets."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.database import command
from portal.extensions import db
from portal.models import Status, Ticket, TicketCount


def count(handler_code: str, status: Status, delta: int) -> None:
    """Keep TicketCount in step, in the caller's transaction: one atomic upsert, safe under concurrency."""
    upsert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    db.session.execute(upsert(TicketCount).values(handler_code=handler_code, status=status, n=delta)
                       .on_conflict_do_update(index_elements=["handler_code", "status"],
                                              set_={"n": TicketCount.n + delta}))


@command
def recount() -> int:
    """Rebuild TicketCount from the tickets themselves (after an import, or to check it); returns rows."""
    db.session.execute(delete(TicketCount))
    rows = db.session.execute(select(Ticket.handler_code, Ticket.status, func.count())
                              .group_by(Ticket.handler_code, Ticket.status)).all()
    if rows:
        db.session.execute(insert(TicketCount), [{"handler_code": h, "status": st, "n": n} for h, st, n in rows])
    db.session.commit()
    return len(rows)
