"""The big screen's figures, read from rollups kept current in the same transaction as every change.

A ticket's contribution to the rollups is a function of its row alone (`cells_of`): created on its day of
receipt, its status group, category, channel and hour, whether it was sent down, answered on time, rated,
how much pay it recovered, and while it is open, the day it falls due. Every change subtracts the old row's
contribution and adds the new one's, for the ticket's place and every region above it (region codes nest by
prefix), so a dashboard at any level reads only its own region's cells: a few thousand rows for a month of a
province, however many tickets lie behind them. `rebuild` recomputes everything from the tables with plain
GROUP BY queries, and a test holds the two to equality.

Figures count tickets by the place of the problem, not by the union handling it now: a city's screen shows
its workers' requests even while the province handles them. Contacts are every ledger entry (calls, visits
and letters logged by staff, whether or not they became tickets) plus the tickets that came straight in
by the web, QR codes or the API.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Date, and_, case, cast, delete, func, literal, or_, select, union_all
from sqlalchemy import insert as insert_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.database import command
from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Channel,
    Kind,
    LedgerEntry,
    Rating,
    Redemption,
    Region,
    Role,
    StatCell,
    Station,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from portal.services import regions, sla, stations, taxonomy
from portal.settings import setting

CONTACT_CHANNELS = (Channel.HOTLINE, Channel.MAILBOX, Channel.VISIT, Channel.WEB, Channel.QR, Channel.API)
# Tickets that came by these are contacts themselves; calls, visits and letters are counted by their ledger entry.
DIRECT_CHANNELS = frozenset({Channel.WEB, Channel.QR, Channel.API})
STATE_OF = {  # status → the group the screen shows
    Status.REPLIED: "replied", Status.RETURN_VISIT: "replied", Status.CLOSED: "closed",
    Status.WITHDRAWN: "withdrawn", Status.MERGED: "withdrawn",
} | {s: "in_progress" for s in Status if s not in {Status.REPLIED, Status.RETURN_VISIT, Status.CLOSED,
                                                   Status.WITHDRAWN, Status.MERGED}}
CODE_LENGTHS = (2, 4, 6, 9)  # province, city, district, town: a region's code begins with its parent's
HOT_WORD_DAYS = 30
WORDS_PER_TICKET = 5
SMALL = 5  # public figures below this are shown as "<5"
MAX_RANGE_DAYS = 366
EARLIEST = date(2000, 1, 1)
# Words too common to say anything (one file, easy to extend), and the parts of speech kept: never those
# that name a person or a place.
STOP_WORDS = frozenset(line.strip() for line in (Path(__file__).parents[2] / "data" / "stopwords.txt")
                       .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
WORD_POS = ("n", "vn", "v", "nz", "an", "a", "l")


# ---------------------------------------------------------------------------------------------- upkeep

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
        cells["answer", day, "on_time" if t.replied_at < t.due_at else "late"] += 1
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
    """jieba.analyse, imported on first use: its dictionary loads then, not when the portal starts. Its import
    reads the IDF table without closing the file; that ResourceWarning is jieba's (and would fail the tests)."""
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


# --------------------------------------------------------------------------------------------- rebuild

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
    on_time = case((t.replied_at < t.due_at, "on_time"), else_="late")
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


# ------------------------------------------------------------------------------------------ the period

@dataclass(frozen=True)
class Period:
    name: str  # "today", "month" or "range"
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


PERIODS = {"today": _l("Today"), "month": _l("This month"), "range": _l("Chosen dates")}


def period(name: str, first: str, last: str, now: datetime) -> Period:
    """The period a dashboard shows: today, this month so far, or a chosen range of at most a year."""
    today = sla.local_date(now)
    if name == "today":
        return Period("today", today, today)
    if name in ("", "month"):
        return Period("month", today.replace(day=1), today)
    if name != "range":
        raise InvalidInput(fields={"period": _l("Choose today, this month or a range of dates.")})
    try:
        start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        raise InvalidInput(fields={"first": _l("Enter both dates, for example 2026-11-01.")}) from None
    if end < start:
        raise InvalidInput(fields={"last": _l("The last day must not be before the first.")})
    if start < EARLIEST or end > today:
        raise InvalidInput(fields={"first": _l("Choose dates between %(first)s and today.",
                                               first=EARLIEST.isoformat())})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(fields={"last": _l("Choose at most %(num)d days.", num=MAX_RANGE_DAYS)})
    return Period("range", start, end)


# ------------------------------------------------------------------------------------------- the figures

def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class Figures:
    """What the tickets and contacts of one region and period add up to."""

    contacts: dict[Channel, int]
    created: int
    dispatched: int
    in_progress: int
    replied: int
    closed: int
    withdrawn: int
    on_time: int
    late: int
    ratings: dict[Rating, int]
    recovered_fen: int
    recovered_cases: int
    categories: dict[str, int]  # "kind/category" → tickets

    @property
    def contacts_total(self) -> int:
        return sum(self.contacts.values())

    @property
    def resolved(self) -> int:
        return self.replied + self.closed

    @property
    def resolution_rate(self) -> float | None:
        """Answered or closed, of the requests not withdrawn or merged."""
        return _rate(self.resolved, self.created - self.withdrawn)

    @property
    def on_time_rate(self) -> float | None:
        """Answered within the deadline, of those answered."""
        return _rate(self.on_time, self.on_time + self.late)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfaction_rate(self) -> float | None:
        """Satisfied or basically satisfied, of those rated."""
        return _rate(self.ratings[Rating.SATISFIED] + self.ratings[Rating.BASICALLY_SATISFIED], self.rated)


FIGURE_MEASURES = ("contact", "created", "status", "dispatched", "answer", "rating", "recovered", "category")


def figures_from(sums: dict[tuple[str, str], int]) -> Figures:
    def get(measure: str, key: str = "") -> int:
        return int(sums.get((measure, key), 0))

    return Figures(
        contacts={c: get("contact", c.value) for c in CONTACT_CHANNELS}, created=get("created"),
        dispatched=get("dispatched"), in_progress=get("status", "in_progress"), replied=get("status", "replied"),
        closed=get("status", "closed"), withdrawn=get("status", "withdrawn"), on_time=get("answer", "on_time"),
        late=get("answer", "late"), ratings={r: get("rating", r.value) for r in Rating},
        recovered_fen=get("recovered", "fen"), recovered_cases=get("recovered", "cases"),
        categories={k: int(n) for (m, k), n in sums.items() if m == "category" and n})


def _cells(region: str, measure: str, first: date, last: date):
    return and_(StatCell.region_code == region, StatCell.measure == measure, StatCell.day >= first,
                StatCell.day <= last)


def figures(region: str, first: date, last: date) -> Figures:
    sums = db.session.execute(
        select(StatCell.measure, StatCell.key, func.sum(StatCell.n))
        .where(or_(*(_cells(region, m, first, last) for m in FIGURE_MEASURES)))
        .group_by(StatCell.measure, StatCell.key)).all()
    return figures_from({(m, k): n for m, k, n in sums})


@dataclass(frozen=True)
class Share:
    """One slice of the category breakdown, as a share of its parent."""

    code: str  # "appeal", "appeal/labour" or "appeal/labour.wages": the drill-down path
    label: str
    n: int
    share: float | None
    deeper: bool  # it has slices of its own


@dataclass(frozen=True)
class Breakdown:
    path: str  # "" for the kinds, "appeal" for an appeal's groups, "appeal/labour" for their categories
    trail: list[tuple[str, str]]  # (path, label) from the top down to the level shown
    total: int
    shares: list[Share]


def breakdown(categories: dict[str, int], path: str = "") -> Breakdown:
    """Kind → group → category (the taxonomy's two levels), each as a share of the level above, like the
    seeds' "65 % legal, of which 73 % labour". An unknown path shows the kinds."""
    parts = path.split("/") if path else []
    kinds = {k.value for k in Kind}
    if parts and (parts[0] not in kinds or len(parts) > 2
                  or (len(parts) == 2 and parts[1] not in {g.code for g in taxonomy.TAXONOMY})):
        parts = []
    trail = [("", str(_l("All requests")))]
    if parts:
        trail.append((parts[0], str(taxonomy.KIND_LABELS[Kind(parts[0])])))
    if len(parts) == 2:
        trail.append(("/".join(parts), str(next(g.label for g in taxonomy.TAXONOMY if g.code == parts[1]))))
    counts: Counter = Counter()
    labels: dict[str, str] = {}
    for key, n in categories.items():
        kind, category = key.split("/", 1)
        if category not in taxonomy.CATEGORIES:
            continue
        group = taxonomy.group_of(category)
        if not parts:
            code, label = kind, str(taxonomy.KIND_LABELS[Kind(kind)])
        elif kind != parts[0]:
            continue
        elif len(parts) == 1:
            code, label = f"{kind}/{group.code}", str(group.label)
        elif group.code != parts[1]:
            continue
        else:
            code, label = f"{kind}/{group.code}/{category}", str(taxonomy.CATEGORIES[category].label)
        counts[code] += n
        labels[code] = label
    total = sum(counts.values())
    shares = [Share(code, labels[code], n, _rate(n, total), len(parts) < 2)
              for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return Breakdown("/".join(parts), trail, total, shares)


@dataclass(frozen=True)
class Ranked:
    place: regions.Place
    n: int


def ranking(region: str, first: date, last: date) -> list[Ranked]:
    """The regions directly below, by tickets received in the period, busiest first (all of them, zeros too)."""
    below = regions.children(region)
    if not below:
        return []
    rows = dict(db.session.execute(
        select(StatCell.region_code, func.sum(StatCell.n))
        .where(StatCell.region_code.in_([p.code for p in below]), StatCell.measure == "created",
               StatCell.day >= first, StatCell.day <= last).group_by(StatCell.region_code)).all())
    return sorted((Ranked(p, int(rows.get(p.code, 0))) for p in below), key=lambda r: (-r.n, r.place.code))


@dataclass(frozen=True)
class Candle:
    """One day of contacts by the hour: open and close are the first and last busy hour's counts, high and
    low the busiest and quietest hour between them; `average` is the 7-day moving average of the close."""

    day: date
    total: int
    open: int
    close: int
    low: int
    high: int
    average: float | None


KLINE_DAYS = 30
MA_DAYS = 7


def kline_days(p: Period) -> tuple[date, date]:
    """The chosen period when it is a fortnight or more, else the 30 days up to its last day."""
    return (p.first, p.last) if p.days >= 14 else (p.last - timedelta(days=KLINE_DAYS - 1), p.last)


def kline(region: str, first: date, last: date) -> list[Candle]:
    hours: dict[date, dict[int, int]] = {}
    for day, hour, n in db.session.execute(
            select(StatCell.day, StatCell.key, StatCell.n)
            .where(_cells(region, "hour", first - timedelta(days=MA_DAYS - 1), last))):
        if n:
            hours.setdefault(day, {})[int(hour)] = int(n)
    closes: list[int] = []
    candles = []
    day = first - timedelta(days=MA_DAYS - 1)
    while day <= last:
        counts = hours.get(day, {})
        if counts:
            span = range(min(counts), max(counts) + 1)
            shape = (counts[min(counts)], counts[max(counts)], min(counts.get(h, 0) for h in span),
                     max(counts.values()))
        else:
            shape = (0, 0, 0, 0)
        closes.append(shape[1])
        if day >= first:
            window = closes[-MA_DAYS:]
            candles.append(Candle(day, sum(counts.values()), *shape,
                                  sum(window) / MA_DAYS if len(window) == MA_DAYS else None))
        day += timedelta(days=1)
    return candles


def hot_words(region: str, last: date, limit: int = 60, at_least: int = 1) -> list[tuple[str, int]]:
    """The most frequent keywords of the 30 days up to `last`."""
    total = func.sum(StatCell.n)
    rows = db.session.execute(
        select(StatCell.key, total).where(_cells(region, "word", last - timedelta(days=HOT_WORD_DAYS - 1), last))
        .group_by(StatCell.key).having(total >= at_least).order_by(total.desc(), StatCell.key).limit(limit))
    return [(word, int(n)) for word, n in rows]


def open_and_overdue(region: str, now: datetime) -> tuple[int, int]:
    """Open tickets, and those past their deadline now. Deadlines fall at Beijing midnight (sla.deadline), so
    a case due on a day up to today is overdue."""
    today = sla.local_date(now)
    row = db.session.execute(
        select(func.sum(StatCell.n), func.sum(case((StatCell.day <= today, StatCell.n), else_=0)))
        .where(StatCell.region_code == region, StatCell.measure == "open_due")).one()
    return int(row[0] or 0), int(row[1] or 0)


# --------------------------------------------------------------- stations and benefits (cached briefly)

@dataclass(frozen=True)
class StationFigures:
    count: int
    open_now: int
    all_day: int


@dataclass(frozen=True)
class BenefitFigures:
    redeemed: int  # vouchers used (undone redemptions not counted)
    saved_fen: int  # what members saved, by offers and vouchers


_cache: dict[tuple, tuple[float, object]] = {}
_cache_lock = threading.Lock()
CACHE_SECONDS = 60


def _cached(key: tuple, compute):
    """Per process, for a minute: "open now" and the benefits' totals move slowly, and reading every
    station's hours or every redemption on each refresh of each screen would not."""
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = compute()
    with _cache_lock:
        _cache[key] = (time.monotonic(), value)
    return value


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def station_figures(region: str, now: datetime) -> StationFigures:
    def compute() -> StationFigures:
        rows = db.session.execute(select(Station.hours, Station.closed_until)
                                  .where(regions.within(Station.region_code, region))).all()
        return StationFigures(len(rows), sum(stations.is_open(h, c, now) for h, c in rows),
                              sum(stations.is_all_day(h) for h, _ in rows))
    return _cached(("stations", region), compute)


def benefit_figures() -> BenefitFigures:
    def compute() -> BenefitFigures:
        row = db.session.execute(select(
            func.count(Redemption.voucher_id),
            func.coalesce(func.sum(Redemption.offer_saving_fen + Redemption.voucher_saving_fen), 0))
            .where(Redemption.undone_at.is_(None))).one()
        return BenefitFigures(int(row[0]), int(row[1]))
    return _cached(("benefits",), compute)


# ------------------------------------------------------------------------------------------ the screen

def version() -> str:
    """Changes whenever a ticket changes or a contact is logged (each adds a row): the screens poll it."""
    events = db.session.scalar(select(func.max(TicketEvent.id))) or 0
    contacts = db.session.scalar(select(func.max(LedgerEntry.id))) or 0
    return f"{events}.{contacts}"


@dataclass(frozen=True)
class Dashboard:
    scope: regions.Place
    period: Period
    today: Figures
    figures: Figures  # of the period
    open_now: int
    overdue_now: int
    ranking: list[Ranked]
    breakdown: Breakdown
    candles: list[Candle]
    words: list[tuple[str, int]]
    stations: StationFigures
    benefits: BenefitFigures
    version: str
    trail: list[regions.Place] = field(default_factory=list)  # from the root down to the scope


def dashboard(region: str, p: Period, now: datetime, path: str = "", words_at_least: int = 1) -> Dashboard:
    """Everything one screen shows, in a dozen indexed reads of the rollups."""
    today = sla.local_date(now)
    marker = version()
    period_figures = figures(region, p.first, p.last)
    today_figures = period_figures if (p.first, p.last) == (today, today) else figures(region, today, today)
    open_now, overdue_now = open_and_overdue(region, now)
    return Dashboard(
        scope=regions.place(region), period=p, today=today_figures, figures=period_figures, open_now=open_now,
        overdue_now=overdue_now, ranking=ranking(region, p.first, p.last),
        breakdown=breakdown(period_figures.categories, path), candles=kline(region, *kline_days(p)),
        words=hot_words(region, p.last, at_least=words_at_least), stations=station_figures(region, now),
        benefits=benefit_figures(), version=marker,
        trail=[pl for pl in regions.ancestry(region) if regions.is_within(pl.code, root())])


def root() -> str:
    return setting("ROOT_REGION")


# ------------------------------------------------------------------------------------ public figures

def masked(n: int) -> int | str:
    """A count small enough to point at a person is shown as "<5"."""
    return n if n >= SMALL else f"<{SMALL}"


def masked_rate(part: int, whole: int) -> float | None:
    return None if whole < SMALL else round(part / whole, 4)


@dataclass(frozen=True)
class Rates:
    resolution: float | None
    on_time: float | None
    satisfaction: float | None


def rates(f: Figures, public: bool = False) -> Rates:
    """Staff see every rate that has a denominator; the public only those taken over at least five cases."""
    if not public:
        return Rates(f.resolution_rate, f.on_time_rate, f.satisfaction_rate)
    satisfied = f.ratings[Rating.SATISFIED] + f.ratings[Rating.BASICALLY_SATISFIED]
    return Rates(masked_rate(f.resolved, f.created - f.withdrawn), masked_rate(f.on_time, f.on_time + f.late),
                 masked_rate(satisfied, f.rated))


def public_figures(board: Dashboard) -> dict:
    """The figures anyone may see: counts only (below 5 shown as "<5"), rates over at least 5 cases, money only
    when at least 5 cases recovered some, words said at least 5 times. No names, texts or places below a town,
    and no key called "name" (SECURITY.md row 22 greps public JSON for it): places and slices have a "label"."""
    f = board.figures
    return {
        "region": {"code": board.scope.code, "label": board.scope.name},
        "period": {"code": board.period.name, "first": board.period.first.isoformat(),
                   "last": board.period.last.isoformat()},
        "contacts": {c.value: masked(n) for c, n in f.contacts.items()} | {"total": masked(f.contacts_total)},
        "tickets": {"created": masked(f.created), "dispatched": masked(f.dispatched),
                    "in_progress": masked(f.in_progress), "replied": masked(f.replied), "closed": masked(f.closed)},
        "rates": dataclasses.asdict(rates(f, public=True)),
        "overdue_now": masked(board.overdue_now),
        "recovered_yuan": round(f.recovered_fen / 100, 2) if f.recovered_cases >= SMALL else None,
        "today": {"contacts": masked(board.today.contacts_total), "created": masked(board.today.created),
                  "closed": masked(board.today.closed)},
        "ranking": [{"code": r.place.code, "label": r.place.name, "tickets": masked(r.n)} for r in board.ranking],
        "categories": [{"code": s.code, "label": s.label, "tickets": masked(s.n),
                        "share": masked_rate(s.n, board.breakdown.total)} for s in board.breakdown.shares],
        "hot_words": [{"word": w, "count": n} for w, n in board.words if n >= SMALL],
        "stations": {"count": board.stations.count, "open_now": board.stations.open_now,
                     "all_day": board.stations.all_day},
        "benefits": {"vouchers_redeemed": masked(board.benefits.redeemed),
                     "saved_yuan": round(board.benefits.saved_fen / 100, 2) if board.benefits.redeemed >= SMALL
                     else None},
    }


def rows_for_export(region: str, p: Period) -> Iterable[list]:
    """One line per day and a total, for the CSV export: counts and rates as the screen shows them."""
    by_day: dict[date, dict] = {}
    for day, measure, key, n in db.session.execute(
            select(StatCell.day, StatCell.measure, StatCell.key, StatCell.n)
            .where(or_(*(_cells(region, m, p.first, p.last) for m in FIGURE_MEASURES)))):
        by_day.setdefault(day, {})[measure, key] = n
    header = (["date"] + [f"contacts_{c.value}" for c in CONTACT_CHANNELS]
              + ["contacts_total", "created", "dispatched", "in_progress", "replied", "closed",
                 "withdrawn_or_merged", "resolution_rate", "answered_on_time", "answered_late", "on_time_rate",
                 "rated", "satisfaction_rate", "recovered_yuan", "recovered_cases"])
    yield header
    day = p.first
    while day <= p.last:
        yield _export_row(day.isoformat(), figures_from(by_day.get(day, {})))
        day += timedelta(days=1)
    yield _export_row("total", figures(region, p.first, p.last))


def _export_row(label: str, f: Figures) -> list:
    def pct(rate: float | None) -> str:
        return "" if rate is None or not math.isfinite(rate) else f"{rate * 100:.1f}%"

    return ([label] + [f.contacts[c] for c in CONTACT_CHANNELS]
            + [f.contacts_total, f.created, f.dispatched, f.in_progress, f.replied, f.closed, f.withdrawn,
               pct(f.resolution_rate), f.on_time, f.late, pct(f.on_time_rate), f.rated, pct(f.satisfaction_rate),
               f"{f.recovered_fen / 100:.2f}", f.recovered_cases])


def scope_of(user: User | None, requested: str = "") -> str:
    """The region a dashboard shows: the user's own (administrators and the public: the root), or a region
    below it that they asked for. Any other region does not exist for them (404)."""
    own = root() if user is None or user.role is Role.ADMIN else (user.region_code or "")
    if user is not None and user.role not in (Role.ADMIN, Role.STAFF) or not own:
        raise NotFound()
    code = (requested or own).strip()[:12]
    if not regions.is_within(code, own) or not regions.is_within(code, root()):
        raise NotFound()
    try:
        regions.place(code)
    except KeyError:
        raise NotFound() from None
    return code
