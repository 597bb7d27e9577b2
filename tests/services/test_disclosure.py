"""Secondary suppression, checked by an attacker: every table the public sees is solved for its hidden parts.

`attack` (tests/conftest.py, shared with the browser's reading of the public screen) finds every value each
hidden part can take that agrees with what is shown (a number exactly, "<5" as 0 to 4, "withheld" as 5 or more,
or anything when the whole group is withheld, an unseen part as anything) and the total; a count of 1 to 4 left
with a single value has been worked out. `brute_force` checks `attack` by trying every assignment.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services import stats
from portal.services.stats import UNSEEN, protect
from portal.services.stats.public import _levels
from tests.conftest import attack


def display(parts: dict, total: int) -> tuple[dict, bool]:
    """What the public reads of each part (its count, "<5", "withheld", or nothing: unseen), and whether the
    whole group is withheld (then a withheld part may be anything, else it is 5 or more: the rules are public)."""
    guard = protect(parts, total)
    shown = {key: None if key is UNSEEN else "withheld" if guard.hides(key, n) else "<5" if n < stats.SMALL else n
             for key, n in parts.items()}
    return shown, guard.blanket


def brute_force(shown: dict, blanket: bool, total: int) -> dict:
    """What `attack` works out, by trying every assignment of the hidden parts (small tables only)."""
    hidden = [key for key, value in shown.items() if not isinstance(value, int)]
    rest = total - sum(value for value in shown.values() if isinstance(value, int))
    ranges = [range(0, 5) if shown[k] == "<5" else range(5, rest + 1) if shown[k] == "withheld" and not blanket
              else range(0, rest + 1) for k in hidden]
    values: dict = {key: set() for key in hidden}
    for combo in itertools.product(*ranges):
        if sum(combo) == rest:
            for key, v in zip(hidden, combo, strict=True):
                values[key].add(v)
    return values


def leaks(parts: dict, total: int) -> list:
    """The parts with a count of 1 to 4 that the shown table gives away, and the hidden sum if it is 1 to 4."""
    if total < stats.SMALL:
        return []  # the total is "<5" itself: no difference can be taken
    shown, blanket = display(parts, total)
    assert attack(shown, blanket, total) == brute_force(shown, blanket, total)
    rest = total - sum(v for v in shown.values() if isinstance(v, int))
    found = [key for key, values in attack(shown, blanket, total).items()
             if 0 < parts[key] < stats.SMALL and len(values) < 2]
    return found + (["the hidden parts' sum"] if 0 < rest < stats.SMALL else [])


def test_a_small_count_beside_its_total_takes_the_smallest_shown_part_with_it():
    """Contacts 60 by web, 10 by phone and 3 by QR code under a total of 73: hiding the 3 alone tells it."""
    guard = protect({"web": 60, "phone": 10, "qr": 3}, 73)
    assert guard.withheld == {"phone"} and not guard.blanket
    assert display({"web": 60, "phone": 10, "qr": 3}, 73) == ({"web": 60, "phone": "withheld", "qr": "<5"}, False)
    assert leaks({"web": 60, "phone": 10, "qr": 3}, 73) == []


def test_a_part_the_public_never_sees_counts_too():
    """10 of a period's 13 requests came today: the 3 before are worked out unless today's 10 is withheld."""
    assert protect({"today": 10, UNSEEN: 3}, 13).withheld == {"today"}
    assert protect({"today": 10, UNSEEN: 30}, 40) is stats.NOTHING


def test_the_attacker_finds_what_hiding_below_five_alone_leaves():
    """The check is not idle: without secondary suppression it works the 3 out, and two 4s under 8."""
    assert attack({"web": 60, "phone": 10, "qr": "<5"}, False, 73) == {"qr": {3}}
    assert attack({"a": "<5", "b": "<5"}, False, 8) == {"a": {4}, "b": {4}}


def test_nothing_is_withheld_where_nothing_small_can_be_found():
    assert protect({"a": 40, "b": 0}, 40) is stats.NOTHING  # a zero points at nobody
    assert protect({"a": 2, "b": 3, "c": 40}, 45) is stats.NOTHING  # 2 and 3 make 5: either could be 1 to 4
    assert protect({"a": 3, "b": 1}, 4) is stats.NOTHING  # the total is "<5" itself


def test_two_fours_under_eight_are_both_withheld_not_shown_as_small():
    """Each is 4 if the public knows both are below 5; shown as withheld, each is anything from 0 to 8."""
    guard = protect({"a": 4, "b": 4}, 8)
    assert guard.blanket and guard.hides("a", 4) and guard.hides("b", 4)
    assert leaks({"a": 4, "b": 4}, 8) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 14), min_size=1, max_size=4), st.integers(0, 6), st.booleans())
def test_no_table_gives_a_small_count_away(counts, unseen, with_unseen):
    """Any group of up to four parts (and a part never shown): no count of 1 to 4 can be worked out."""
    parts = {f"p{i}": n for i, n in enumerate(counts)}
    if with_unseen:
        parts[UNSEEN] = unseen
    assert leaks(parts, sum(parts.values())) == []


def test_a_slice_of_the_breakdown_withheld_above_withholds_its_level_below(app):
    """Appeals 6 (labour 6), consultations 40 and help 2: the 6 is withheld beside the 2 under 48, so the appeal
    level must not show labour's 6 (it is the appeals' count), nor its total."""
    categories = {"appeal/labour.wages": 6, "consultation/labour.contract": 40, "help/support.hardship": 2}
    with app.test_request_context():
        top = stats.breakdown(categories)
        guard, above = _levels(categories, top)
        assert guard.withheld == {"appeal"} and not above
        appeals = stats.breakdown(categories, "appeal")
        guard, above = _levels(categories, appeals)
        assert above and guard.hides("appeal/labour", 6)
        consultations = stats.breakdown(categories, "consultation")
        assert _levels(categories, consultations) == (stats.NOTHING, False)
