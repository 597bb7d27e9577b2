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
from portal.services.stats.figures import Figures, Period
from portal.services.stats.screen import Dashboard, dashboard

SMALL = 5  # public figures below this are shown as "<5"


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
    """Staff see every rate that has a denominator; the public only those masked_rate lets through."""
    if not public:
        return Rates(f.resolution_rate, f.on_time_rate, f.satisfaction_rate)
    return Rates(**{name: masked_rate(part, whole) for name, (part, whole) in rate_bases(f).items()})


def board_for(region: str, p: Period, now: datetime, path: str = "", public: bool = False) -> tuple[Dashboard, Rates]:
    """One screen's figures and rates as its viewer may see them: the public's hot words are those said at
    least five times, its rates those taken over at least five cases."""
    board = dashboard(region, p, now, path=path, words_at_least=SMALL if public else 1)
    return board, rates(board.figures, public=public)


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
                        "share": masked_share(s.n, board.breakdown.total)} for s in board.breakdown.shares],
        "hot_words": [{"word": w, "count": n} for w, n in board.words if n >= SMALL],
        "stations": {"count": board.stations.count, "open_now": board.stations.open_now,
                     "all_day": board.stations.all_day},
        "benefits": {"vouchers_redeemed": masked(board.benefits.redeemed),
                     "saved_yuan": round(board.benefits.saved_fen / 100, 2) if board.benefits.redeemed >= SMALL
                     else None},
    }
