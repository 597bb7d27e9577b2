"""What each change adds to the rollups, kept in the same transaction as the change itself.

A ticket's contribution to the rollups is a function of its row alone (`cells_of`): created on its day of
receipt, its status group, category, channel and hour, whether it was sent down, answered on time, rated,
how much pay it recovered, and while it is open, the day it falls due. Every change subtracts the old row's
contribution and adds the new one's, for the ticket's place and every region above it (region codes nest by
prefix), so a dashboard at any level reads only its own region's cells.

Figures count tickets by the place of the problem, not by the union handling it now: a city's screen shows
its workers' requests even while the province handles them. Contacts are every ledger entry (calls, visits
and letters logged by staff, whether or not they became tickets) plus the tickets that came straight in
by the web, QR codes or the API. A ticket's hot words are found here too, before its transaction begins.
"""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.extensions import db
from portal.models import Channel, Kind, LedgerEntry, Rating, StatCell, Status, Ticket
from portal.services import regions, sla

# Tickets that came by these are contacts themselves; calls, visits and letters are counted by their ledger entry.
DIRECT_CHANNELS = frozenset({Channel.WEB, Channel.QR, Channel.API})
STATE_OF = {  # status → the group the screen shows
    Status.REPLIED: "replied", Status.RETURN_VISIT: "replied", Status.AWAITING_PROMISE: "replied",
    Status.CLOSED: "closed", Status.WITHDRAWN: "withdrawn", Status.MERGED: "withdrawn",
} | {s: "in_progress" for s in Status if s not in {Status.REPLIED, Status.RETURN_VISIT, Status.AWAITING_PROMISE,
                                                   Status.CLOSED, Status.WITHDRAWN, Status.MERGED}}
WORDS_PER_TICKET = 5
# Words too common to say anything (one file, easy to extend), and the parts of speech kept: never those
# that name a person or a place.
STOP_WORDS = frozenset(line.strip() for line in (Path(__file__).parents[2] / "data" / "stopwords.txt")
                       .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
WORD_POS = ("n", "vn", "v", "nz", "an", "a", "l")


class Facts(NamedTuple):
    """The columns of a ticket the rollups read."""

    place_code: str
    received_at: datetime
    status: Status
    kind: Kind
    category: str
    channel: Channel
    dispatched_at: datetime | None
    replied_at: datetime | None
    due_at: datetime
    rating: Rating | None
    amount_recovered_fen: int | None


def facts(ticket: Ticket, **changes) -> Facts:
    """The ticket's facts, with `changes` (column → new value) applied."""
    return Facts(*(changes.get(name, getattr(ticket, name)) for name in Facts._fields))


Cells = Counter  # (measure, day, key) → n


def cells_of(t: Facts) -> Cells:
    """What one ticket adds to the cells of its place (and of each region above it)."""
    day = sla.local_date(t.received_at)
    status = Status(t.status)
    cells = Cells({("created", day, ""): 1, ("status", day, STATE_OF[status]): 1,
                   ("category", day, f"{Kind(t.kind).value}/{t.category}"): 1})
    if Channel(t.channel) in DIRECT_CHANNELS:
        cells["contact", day, Channel(t.channel).value] += 1
        cells["hour", day, _hour(t.received_at)] += 1
    if t.dispatched_at is not None:
        cells["dispatched", day, ""] += 1
    if t.replied_at is not None:
        cells["answer", day, "on_time" if sla.answered_in_time(t.replied_at, t.due_at) else "late"] += 1
    if t.rating is not None:
        cells["rating", day, Rating(t.rating).value] += 1
    if t.amount_recovered_fen:
        cells["recovered", day, "fen"] += t.amount_recovered_fen
        cells["recovered", day, "cases"] += 1
    if status not in {Status.CLOSED, Status.WITHDRAWN, Status.MERGED}:
        cells["open_due", sla.local_date(t.due_at), ""] += 1
    return cells


def _hour(moment: datetime) -> str:
    return f"{moment.astimezone(sla.SHANGHAI).hour:02d}"


def levels(code: str) -> list[str]:
    """The region and every region above it (Dongguan's towns have no district: not every prefix is one)."""
    return [place.code for place in regions.ancestry(code)]


def ticket_added(ticket: Ticket, words: list[str]) -> None:
    """A new ticket, in the transaction that inserts it, with its hot words (`hot_words_of` its description,
    found before the transaction: jieba's first call in a process takes a second, too long to hold the lock)."""
    cells = cells_of(facts(ticket))
    day = sla.local_date(ticket.received_at)
    for word in words:
        cells["word", day, word] += 1
    _add(ticket.place_code, cells)


def ticket_changed(before: Facts, after: Facts) -> None:
    """A ticket's change, in the transaction that makes it."""
    cells = cells_of(after)
    cells.subtract(cells_of(before))
    _add(after.place_code, cells)


def contact_logged(entry: LedgerEntry) -> None:
    """A ledger entry, in the transaction that inserts it; counted for the union that took the contact."""
    day = sla.local_date(entry.at)
    _add(entry.region_code, Cells({("contact", day, Channel(entry.channel).value): 1,
                                   ("hour", day, _hour(entry.at)): 1}))


def _add(place_code: str, cells: Cells) -> None:
    """One upsert per changed cell for each level; rows in key order, so two writers never deadlock."""
    rows = sorted((region, m, d, k, n) for region in levels(place_code) for (m, d, k), n in cells.items() if n)
    if not rows:
        return
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    statement = insert(StatCell)
    statement = statement.on_conflict_do_update(index_elements=["region_code", "measure", "day", "key"],
                                                set_={"n": StatCell.n + statement.excluded.n})
    db.session.execute(statement, [dict(zip(("region_code", "measure", "day", "key", "n"), row, strict=True))
                                   for row in rows])


@cache
def _jieba():
    """jieba.analyse, imported on first use (gunicorn's master uses it before forking: text.warm_up), so a flask
    command that needs no hot words never loads it. Its import reads the IDF table without closing the file; that
    ResourceWarning is jieba's (and would fail the tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        import jieba.analyse  # noqa: PLC0415
    return jieba.analyse


def hot_words_of(text: str) -> list[str]:
    """jieba's TF-IDF keywords among nouns, verbs and adjectives (not names of people or places), minus
    grievances' stop words."""
    words = _jieba().extract_tags(text[:2000], topK=WORDS_PER_TICKET * 2, allowPOS=WORD_POS)
    return [w for w in words if len(w) >= 2 and w not in STOP_WORDS and not any(c.isdigit() for c in w)
            ][:WORDS_PER_TICKET]
