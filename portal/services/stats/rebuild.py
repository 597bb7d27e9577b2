"""Every cell recomputed from the tickets and the ledger with plain GROUP BY queries, apart from the upkeep.

The rollups are kept current change by change (`rollup`); this is the second, independent way to the same
cells, after a bulk import or to check them: a test holds the two to equality (`all_cells`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, cast, delete, func, literal, select, union_all
from sqlalchemy import insert as insert_

from portal.database import command
from portal.extensions import db
from portal.models import LedgerEntry, Region, StatCell, Status, Ticket
from portal.services import sla
from portal.services.stats.figures import HOT_WORD_DAYS
from portal.services.stats.rollup import DIRECT_CHANNELS, STATE_OF, hot_words_of, levels

CODE_LENGTHS = (2, 4, 6, 9)  # province, city, district, town: a region's code begins with its parent's


def _local_day(column):
    if db.engine.dialect.name == "sqlite":
        return func.date(column, "+8 hours")
    return cast(func.timezone("Asia/Shanghai", column), Date)


def _local_hour(column):
    if db.engine.dialect.name == "sqlite":
        return func.strftime("%H", column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "HH24")


def _ticket_measures():
    """(measure, key expression, n expression, day column, condition) for each rollup of tickets."""
    t = Ticket
    state = case(*((t.status == s, g) for s, g in STATE_OF.items()))
    on_time = case((sla.answered_in_time(t.replied_at, t.due_at), "on_time"), else_="late")
    open_ = t.status.not_in([Status.CLOSED, Status.WITHDRAWN, Status.MERGED])
    return [
        ("created", literal(""), func.count(), t.received_at, None),
        ("status", state, func.count(), t.received_at, None),
        ("category", t.kind + "/" + t.category, func.count(), t.received_at, None),
        ("dispatched", literal(""), func.count(), t.received_at, t.dispatched_at.is_not(None)),
        ("answer", on_time, func.count(), t.received_at, t.replied_at.is_not(None)),
        ("rating", t.rating, func.count(), t.received_at, t.rating.is_not(None)),
        ("recovered", literal("fen"), func.sum(t.amount_recovered_fen), t.received_at, t.amount_recovered_fen > 0),
        ("recovered", literal("cases"), func.count(), t.received_at, t.amount_recovered_fen > 0),
        ("open_due", literal(""), func.count(), t.due_at, open_),
    ]


@command
def rebuild(now: datetime) -> int:
    """Recompute every cell from the tickets and the ledger (after a bulk import, or to check the rollups):
    one GROUP BY per measure and level, and jieba over the descriptions of the last month. Word cells older
    than HOT_WORD_DAYS + 1 days are dropped, not recomputed: no screen shows them, and jieba over a million
    descriptions would take minutes (compare rollups with a rebuild on the recent words only). Returns cells."""
    db.session.execute(delete(StatCell))
    contacts = union_all(  # tickets that came in directly, and every ledger entry
        select(Ticket.place_code.label("code"), Ticket.received_at.label("at"), Ticket.channel.label("channel"))
        .where(Ticket.channel.in_(list(DIRECT_CHANNELS))),
        select(LedgerEntry.region_code, LedgerEntry.at, LedgerEntry.channel)).subquery()
    for length in CODE_LENGTHS:
        for measure, key, n, at, condition in _ticket_measures():
            region = func.substr(Ticket.place_code, 1, length)
            where = [func.length(Ticket.place_code) >= length] + ([condition] if condition is not None else [])
            day = _local_day(at)
            _insert_grouped(select(region, literal(measure), day, key, n).where(*where).group_by(region, day, key))
        region, day = func.substr(contacts.c.code, 1, length), _local_day(contacts.c.at)
        for measure, key in (("contact", contacts.c.channel), ("hour", _local_hour(contacts.c.at))):
            _insert_grouped(select(region, literal(measure), day, key, func.count())
                            .where(func.length(contacts.c.code) >= length).group_by(region, day, key))
    since = datetime.combine(sla.local_date(now) - timedelta(days=HOT_WORD_DAYS + 1), datetime.min.time(),
                             sla.SHANGHAI)
    words: Counter = Counter()
    for place, at, text in db.session.execute(select(Ticket.place_code, Ticket.received_at, Ticket.description)
                                              .where(Ticket.received_at >= since)).yield_per(5000):
        day = sla.local_date(at)
        for word in hot_words_of(text):
            for region in levels(place):
                words[region, day, word] += 1
    if words:
        db.session.execute(insert_(StatCell), [{"region_code": r, "measure": "word", "day": d, "key": w, "n": n}
                                               for (r, d, w), n in words.items()])
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(StatCell))


def _insert_grouped(query) -> None:
    """Insert the grouped rows whose code prefix is a region (Dongguan's 441900 is none)."""
    grouped = query.subquery()
    region = grouped.c[0]
    db.session.execute(insert_(StatCell).from_select(
        ["region_code", "measure", "day", "key", "n"],
        select(*grouped.c).where(region.in_(select(Region.code)))))


def all_cells() -> dict[tuple[str, str, date, str], int]:
    """Every non-zero cell, for comparing the rollups with a rebuild."""
    return {(r, m, d, k): n for r, m, d, k, n in db.session.execute(
        select(StatCell.region_code, StatCell.measure, StatCell.day, StatCell.key, StatCell.n)) if n}
