"""The small-count rules: what of a screen the public may see, and the rates each viewer is shown.

A count below five could point at a person, so the public sees it as "<5", a rate only when it is taken over
at least five cases, money only once five cases make it up, and hot words said at least five times
(SECURITY.md row 22). Staff see every figure of their jurisdiction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from portal.models import Rating
from portal.services.stats.disclosure import SMALL, UNSEEN, Protection, Withheld, protect
from portal.services.stats.figures import Breakdown, Figures, Period, breakdown
from portal.services.stats.screen import Dashboard, dashboard

WITHHELD = "withheld"  # how the public JSON gives a count withheld so that a small one cannot be worked out


def masked(n: int) -> int | str:
    """A count small enough to point at a person is shown as "<5"."""
    return n if n >= SMALL else f"<{SMALL}"


def _small(n: int) -> bool:
    """1 to 4 could point at a person; none at all points at nobody."""
    return 0 < n < SMALL


def masked_rate(part: int, whole: int) -> float | None:
    """A rate the public may see: over at least five cases, and neither its part nor the rest between 1 and 4,
    or the rate times a base shown elsewhere would give that small count back (95 % of 60 answered: 3 are not)."""
    return None if whole < SMALL or _small(part) or _small(whole - part) else round(part / whole, 4)


def masked_share(n: int, total: int) -> float | None:
    """A slice's share of the total, only where its count is shown (a share of a "<5" tells the count)."""
    return None if n < SMALL or total < SMALL else round(n / total, 4)


def rate_bases(f: Figures) -> dict[str, tuple[int, int]]:
    """Each rate's part and whole, which the screen states beside it ("answered or closed 57 of 60")."""
    satisfied = f.ratings[Rating.SATISFIED] + f.ratings[Rating.BASICALLY_SATISFIED]
    return {"resolution": (f.resolved, f.created - f.withdrawn), "on_time": (f.on_time, f.on_time + f.late),
            "satisfaction": (satisfied, f.rated)}


@dataclass(frozen=True)
class Rates:
    resolution: float | None
    on_time: float | None
    satisfaction: float | None


def rates(f: Figures, public: bool = False) -> Rates:
    """Staff see every rate that has a denominator; the public only those masked_rate lets through, and the
    resolution rate only when the withdrawn it leaves out are not 1 to 4 (its base and the requests beside it
    would give them back)."""
    if not public:
        return Rates(f.resolution_rate, f.on_time_rate, f.satisfaction_rate)
    shown = {name: masked_rate(part, whole) for name, (part, whole) in rate_bases(f).items()}
    if _small(f.withdrawn):
        shown["resolution"] = None
    return Rates(**shown)


def _levels(categories: dict[str, int], level: Breakdown) -> tuple[Protection, bool]:
    """The breakdown's level protected under its total; where that total is a slice hidden on a level above
    (below five, or withheld), every slice of this level is withheld too, and so is the total (True)."""
    path = ""
    for code in level.path.split("/") if level.path else []:
        upper, slice_code = breakdown(categories, path), f"{path}/{code}" if path else code
        n = next((s.n for s in upper.shares if s.code == slice_code), 0)
        if n < SMALL or protect({s.code: s.n for s in upper.shares}, upper.total).hides(slice_code, n):
            return Protection(frozenset(s.code for s in level.shares), blanket=True), True
        path = slice_code
    return protect({s.code: s.n for s in level.shares}, level.total), False


def withheld(board: Dashboard) -> Withheld:
    """What the public screen withholds besides counts below five, so that none of those can be worked out as a
    total minus the parts shown beside it (`disclosure.protect` for each group whose parts add up)."""
    f, today = board.figures, board.today
    categories, level_total = _levels(f.categories, board.breakdown)
    kinds = ("contacts", "created", "closed")
    period = {"contacts": f.contacts_total, "created": f.created, "closed": f.closed}
    now = {"contacts": today.contacts_total, "created": today.created, "closed": today.closed}
    same_day = board.period.first == board.period.last
    return Withheld(
        channels=protect(dict(f.contacts), f.contacts_total),
        statuses=protect({"in_progress": f.in_progress, "replied": f.replied, "closed": f.closed,
                          UNSEEN: f.withdrawn}, f.created),
        today=None if same_day else {k: protect({"today": now[k], UNSEEN: period[k] - now[k]}, period[k])
                                     for k in kinds},
        places=protect({r.place.code: r.n for r in board.ranking}
                       | {UNSEEN: max(0, f.created - sum(r.n for r in board.ranking))}, f.created),
        categories=categories, level_total=level_total,
        days=protect({c.day: c.total for c in board.candles}, sum(c.total for c in board.candles)))


def board_for(region: str, p: Period, now: datetime, path: str = "", public: bool = False) -> tuple[Dashboard, Rates]:
    """One screen's figures and rates as its viewer may see them: the public's hot words are those said at
    least five times, its rates those taken over at least five cases."""
    board = dashboard(region, p, now, path=path, words_at_least=SMALL if public else 1)
    if public:
        board = dataclasses.replace(board, withheld=withheld(board))
    return board, rates(board.figures, public=public)


def _count(n: int, hidden: bool = False) -> int | str:
    return WITHHELD if hidden else masked(n)


def public_figures(board: Dashboard) -> dict:
    """The figures anyone may see: counts only (below 5 shown as "<5", and "withheld" where a total minus the
    parts beside it would give such a count back), rates over at least 5 cases, money only when at least 5 cases
    recovered some, words said at least 5 times. No names, texts or places below a town, and no key called
    "name" (SECURITY.md row 22 greps public JSON for it): places and slices have a "label"."""
    f, w = board.figures, board.withheld
    today = board.today
    status = {k: _count(n, w.statuses.hides(k, n))
              for k, n in (("in_progress", f.in_progress), ("replied", f.replied), ("closed", f.closed))}
    return {
        "region": {"code": board.scope.code, "label": board.scope.name},
        "period": {"code": board.period.name, "first": board.period.first.isoformat(),
                   "last": board.period.last.isoformat()},
        "contacts": {c.value: _count(n, w.channels.hides(c, n)) for c, n in f.contacts.items()}
                    | {"total": masked(f.contacts_total)},
        "tickets": {"created": masked(f.created), "dispatched": masked(f.dispatched)} | status,
        "rates": dataclasses.asdict(rates(f, public=True)),
        "overdue_now": masked(board.overdue_now),
        "recovered_yuan": round(f.recovered_fen / 100, 2) if f.recovered_cases >= SMALL else None,
        "today": {"contacts": _count(today.contacts_total, w.today_hides("contacts", today.contacts_total)),
                  "created": _count(today.created, w.today_hides("created", today.created)),
                  "closed": _count(today.closed, w.today_hides("closed", today.closed))},
        "ranking": [{"code": r.place.code, "label": r.place.name,
                     "tickets": _count(r.n, w.places.hides(r.place.code, r.n))} for r in board.ranking],
        "categories": [{"code": s.code, "label": s.label, "tickets": _count(s.n, w.categories.hides(s.code, s.n)),
                        "share": None if w.categories.hides(s.code, s.n) else masked_share(s.n, board.breakdown.total)}
                       for s in board.breakdown.shares],
        "hot_words": [{"word": word, "count": n} for word, n in board.words if n >= SMALL],
        "stations": {"count": board.stations.count, "open_now": board.stations.open_now,
                     "all_day": board.stations.all_day},
        "benefits": {"vouchers_redeemed": masked(board.benefits.redeemed),
                     "saved_yuan": round(board.benefits.saved_fen / 100, 2) if board.benefits.redeemed >= SMALL
                     else None},
    }
