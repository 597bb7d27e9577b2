"""The figures of one region: what its cells in the rollups add up to over a period, read, never written.

Every change keeps the cells current (`rollup`), for the ticket's place and every region above it, so a
dashboard at any level reads only its own region's cells: a few thousand rows for a month of a province,
however many tickets lie behind them. Here are those reads: the period asked for, the counts and rates, the
category breakdown, the regions below ranked, the contacts' K-line by the hour, the hot words, and the cases
open and overdue now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from portal.exceptions import InvalidInput
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.models import Channel, Kind, Rating, StatCell
from portal.services import regions, sla, taxonomy
from portal.services.stats.disclosure import SMALL
from portal.vocabulary import ALL_REQUESTS, CATEGORY_LABELS, GROUP_LABELS, KIND_LABELS

CONTACT_CHANNELS = (Channel.HOTLINE, Channel.MAILBOX, Channel.VISIT, Channel.WEB, Channel.QR, Channel.API)
HOT_WORD_DAYS = 30
MAX_RANGE_DAYS = 366
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    name: str  # "today", "month" or "range"
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


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
        start, end = parse.day(first, "first", required=True), parse.day(last, "last", required=True)
    except InvalidInput:
        raise InvalidInput(fields={"first": _l("Enter both dates, for example 2026-11-01.")}) from None
    if end < start:
        raise InvalidInput(fields={"last": _l("The last day must not be before the first.")})
    if start < EARLIEST or end > today:
        raise InvalidInput(fields={"first": _l("Choose dates between %(first)s and today.",
                                               first=EARLIEST.isoformat())})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(fields={"last": _l("Choose at most %(num)d days.", num=MAX_RANGE_DAYS)})
    return Period("range", start, end)


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


def cells_between(region: str, measure: str, first: date, last: date):
    """The cells of one region and measure from `first` to `last`, as a condition."""
    return and_(StatCell.region_code == region, StatCell.measure == measure, StatCell.day >= first,
                StatCell.day <= last)


def figures(region: str, first: date, last: date) -> Figures:
    sums = db.session.execute(
        select(StatCell.measure, StatCell.key, func.sum(StatCell.n))
        .where(or_(*(cells_between(region, m, first, last) for m in FIGURE_MEASURES)))
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
    trail = [("", str(ALL_REQUESTS))]
    if parts:
        trail.append((parts[0], str(KIND_LABELS[Kind(parts[0])])))
    if len(parts) == 2:
        trail.append(("/".join(parts), str(GROUP_LABELS[parts[1]])))
    counts: Counter = Counter()
    labels: dict[str, str] = {}
    for key, n in categories.items():
        kind, category = key.split("/", 1)
        if category not in taxonomy.CATEGORIES:
            continue
        group = taxonomy.group_of(category)
        if not parts:
            code, label = kind, str(KIND_LABELS[Kind(kind)])
        elif kind != parts[0]:
            continue
        elif len(parts) == 1:
            code, label = f"{kind}/{group.code}", str(GROUP_LABELS[group.code])
        elif group.code != parts[1]:
            continue
        else:
            code, label = f"{kind}/{group.code}/{category}", str(CATEGORY_LABELS[category])
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
    low the busiest and quietest hour between them; `average` is the 7-day moving average of the close, and
    `small_close` says whether a close of 1 to 4 is in it (the public may not see such an average: seven times it,
    less the other closes, gives that close back)."""

    day: date
    total: int
    open: int
    close: int
    low: int
    high: int
    average: float | None
    small_close: bool = False


KLINE_DAYS = 30
MA_DAYS = 7


def kline_days(p: Period) -> tuple[date, date]:
    """The chosen period when it is a fortnight or more, else the 30 days up to its last day."""
    return (p.first, p.last) if p.days >= 14 else (p.last - timedelta(days=KLINE_DAYS - 1), p.last)


def kline(region: str, first: date, last: date) -> list[Candle]:
    hours: dict[date, dict[int, int]] = {}
    for day, hour, n in db.session.execute(
            select(StatCell.day, StatCell.key, StatCell.n)
            .where(cells_between(region, "hour", first - timedelta(days=MA_DAYS - 1), last))):
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
                                  sum(window) / MA_DAYS if len(window) == MA_DAYS else None,
                                  any(0 < close < SMALL for close in window)))
        day += timedelta(days=1)
    return candles


def hot_words(region: str, last: date, limit: int = 60, at_least: int = 1) -> list[tuple[str, int]]:
    """The most frequent keywords of the 30 days up to `last`."""
    total, first = func.sum(StatCell.n), last - timedelta(days=HOT_WORD_DAYS - 1)
    rows = db.session.execute(
        select(StatCell.key, total).where(cells_between(region, "word", first, last))
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
