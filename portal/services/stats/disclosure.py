"""Secondary suppression: which shown counts the public must not see either, so that no count hidden as "<5"
can be worked out from a total minus the parts beside it.

A public table shows parts that add up to a total shown elsewhere (contacts by channel and their total, the
regions below and the requests, today and the period). Hiding a 3 as "<5" is no use when the total and every
other part are shown: the 3 is their difference. So for each such group the public also loses the smallest
shown parts until what is hidden is safe:

- what the hidden parts add up to (the total minus the shown parts) is none, or at least five — the small-count
  rule applied to the difference itself;
- and no hidden part with a count of 1 to 4 is pinned to one value by the sum: a part shown as "<5" lies
  between 0 and 4, a withheld one is at least 5, and one the public never sees (`unseen`) is anything.

If even hiding every part leaves one pinned (two parts of 4 under a total of 8), the parts are all shown as
withheld, not as "<5", since then each lies anywhere between 0 and the total. Pure functions of counts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

SMALL = 5  # public counts below this are shown as "<5"

UNSEEN = object()  # the key of the part of a group the public never sees (withdrawn requests, say)


def _pinned(hidden: dict[Hashable, tuple[int, int | None, int]], rest: int) -> bool:
    """Whether the sum `rest` of the hidden parts pins one with a count of 1 to 4 to a single value; each part
    is (lowest, highest or None for no bound, its true count)."""
    lows = sum(low for low, _high, _n in hidden.values())
    highs = None if any(high is None for _low, high, _n in hidden.values()) else sum(h for _l, h, _n in hidden.values())
    for low, high, n in hidden.values():
        if not 0 < n < SMALL:
            continue
        least = low if highs is None else max(low, rest - (highs - high))
        most = rest - (lows - low) if high is None else min(high, rest - (lows - low))
        if least >= most:
            return True
    return False


def _safe(parts: Mapping[Hashable, int], withheld: set, rest: int) -> bool:
    if rest == 0:
        return True
    if rest < SMALL:
        return False
    hidden = {}
    for key, n in parts.items():
        if key is UNSEEN:
            hidden[key] = (0, None, n)
        elif key in withheld:
            hidden[key] = (SMALL, None, n)
        elif n < SMALL:
            hidden[key] = (0, SMALL - 1, n)
    return not _pinned(hidden, rest)


@dataclass(frozen=True)
class Protection:
    """A group's parts to withhold besides those below five; `blanket`: show every hidden part as withheld."""

    withheld: frozenset = frozenset()
    blanket: bool = False

    def hides(self, key: Hashable, n: int) -> bool:
        """Whether the part `key` of count `n` is shown as withheld (not as its count, nor as "<5")."""
        return key in self.withheld or (self.blanket and n < SMALL)


NOTHING = Protection()


def protect(parts: Mapping[Hashable, int], total: int) -> Protection:
    """The parts of a group (`UNSEEN` the one the public never sees) to withhold so that none below five can be
    worked out from `total`, which the public sees. Where the total is itself below five no difference is known."""
    if total < SMALL or all(n == 0 or n >= SMALL for n in parts.values()):
        return NOTHING
    shown = sorted(((n, str(key), key) for key, n in parts.items() if n >= SMALL and key is not UNSEEN),
                   key=lambda t: t[:2])
    withheld: set = set()
    while True:
        rest = total - sum(n for n, _, key in shown if key not in withheld)
        if _safe(parts, withheld, rest):
            return Protection(frozenset(withheld)) if withheld else NOTHING
        if len(withheld) == len(shown):
            return Protection(frozenset(withheld), blanket=True)
        withheld.add(next(key for _, _, key in shown if key not in withheld))


@dataclass(frozen=True)
class Withheld:
    """What of one public screen is withheld besides the counts below five, group by group (`stats.withheld`
    decides it; staff screens withhold nothing). `level_total`: the breakdown's level is a slice withheld above."""

    channels: Protection = NOTHING  # contacts by channel, under their total
    statuses: Protection = NOTHING  # in progress, answered, closed (and the withdrawn, unseen) under requests
    today: Mapping[str, Protection] | None = None  # today's contacts, requests, closed under the period's
    places: Protection = NOTHING  # the regions below, under the requests
    categories: Protection = NOTHING  # the slices of the breakdown's level, under the level's total
    level_total: bool = False
    days: Protection = NOTHING  # the K-line's days, under their contacts

    def today_hides(self, name: str, n: int) -> bool:
        return bool(self.today) and self.today[name].hides("today", n)

    @property
    def any(self) -> bool:
        groups = (self.channels, self.statuses, self.places, self.categories, self.days, *(self.today or {}).values())
        return self.level_total or any(g is not NOTHING for g in groups)


NONE_WITHHELD = Withheld()
