"""One screen: which region a viewer may see, everything its page shows, and the marker its poller compares.

The figures come from the rollups (`figures`); the stations' "open now" and the benefits' totals are read from
their own tables and kept a minute per process, since they move slowly and every screen refreshes often.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.exceptions import NotFound
from portal.extensions import db
from portal.models import LedgerEntry, Redemption, Role, Station, TicketEvent, User
from portal.services import regions, sla, stations
from portal.services.stats.disclosure import NONE_WITHHELD, Withheld
from portal.services.stats.figures import (
    Breakdown,
    Candle,
    Figures,
    Period,
    Ranked,
    breakdown,
    figures,
    hot_words,
    kline,
    kline_days,
    open_and_overdue,
    ranking,
)
from portal.settings import setting


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
    withheld: Withheld = NONE_WITHHELD  # the public's screen only: what it withholds besides counts below five


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
        benefits=benefit_figures(), version=marker)


def root() -> str:
    return setting("ROOT_REGION")


def trail(region: str) -> list[regions.Place]:
    """The regions from the root down to `region`: the screen's way back up."""
    return [place for place in regions.ancestry(region) if regions.is_within(place.code, root())]


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
