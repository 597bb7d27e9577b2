"""Figures people trust (issue 14, item 7) on a 360 px phone: the public screen read as an attacker would, from
what the browser shows. Every table whose parts add up to a total beside it is solved for its hidden parts
(tests/services/test_disclosure.attack); no count of 1 to 4 may come out. Rates state their base and agree with
the counts beside them; a K-line with nothing to draw says why.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page
from tests.conftest import attack

pytestmark = pytest.mark.browser

WITHHELD = "withheld"  # the English pages: "不公开" in Chinese
CELL = re.compile(r"^(\d[\d,]*|<5|withheld)$")
BASE = re.compile(r"^([\d,]+) of ([\d,]+) ")  # "57 of 60 answered or closed"


def cell(text: str) -> int | str:
    text = " ".join(text.split())
    assert CELL.fullmatch(text), f"not a public count: {text!r}"
    return int(text.replace(",", "")) if text[0].isdigit() else text


def table_rows(page: Page, figure: str) -> dict[str, int | str]:
    rows = page.locator(f"#figure-{figure} table.totals tbody tr")
    return {rows.nth(i).locator("th").text_content().strip(): cell(rows.nth(i).locator("td").first.text_content())
            for i in range(rows.count())}


def kpi(page: Page, label: str, block: int = 1) -> str:
    """A figure's own text (its base, if any, left out) in the live part's `block`-th list (0: today)."""
    figure = (page.locator("#dashboard-live .kpis").nth(block)
              .locator(".kpi", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd"))
    return figure.evaluate("dd => dd.firstChild.textContent").strip()


def assert_unsolvable(parts: dict[str, int | str | None], total: int | str, what: str) -> None:
    """With the total shown, no part shown as "<5" is pinned to a value from 1 to 4, and the hidden parts do
    not add up to 1 to 4. `None` is a part the page never shows. A withheld part is taken to be 5 or more
    (the rules are public) unless no assignment then fits: the whole group is withheld."""
    if not isinstance(total, int):
        return
    rest = total - sum(v for v in parts.values() if isinstance(v, int))
    assert not 0 < rest < 5, f"{what}: the hidden parts add up to {rest}"
    values = attack(parts, False, total)
    if any(not v for v in values.values()):
        values = attack(parts, True, total)
    solved = {k: v for k, v in values.items() if parts[k] == "<5" and len(v) == 1 and v != {0}}
    assert not solved, f"{what}: {solved} worked out from the total {total}"


@pytest.mark.parametrize("query", ["", "region=4401", "region=440106", "region=440106006", "period=today"])
def test_no_count_below_five_can_be_worked_out_from_the_public_screen(new_context, query):
    page = new_context(locale="en-US").new_page()
    page.goto(f"/dashboard/public?lang=en&{query}")
    expect(page.locator("#dashboard-live")).to_be_visible()
    channels = table_rows(page, "channels")
    assert_unsolvable({k: v for k, v in channels.items() if k != "Total"}, channels["Total"], f"channels {query}")

    requests = cell(kpi(page, "Requests"))
    statuses = {label: cell(kpi(page, label)) for label in ("In progress", "Answered", "Closed")}
    assert_unsolvable(statuses | {"withdrawn": None}, requests, f"statuses {query}")
    if "period=today" not in query:
        for label, period_label in (("Contacts", "Contacts"), ("New requests", "Requests"), ("Closed", "Closed")):
            assert_unsolvable({"today": cell(kpi(page, label, block=0)), "before": None},
                              cell(kpi(page, period_label)), f"today's {label} {query}")

    ranking = page.locator(".dash-ranking li")
    places = {ranking.nth(i).locator("a").text_content(): cell(ranking.nth(i).locator(".num").text_content())
              for i in range(ranking.count())}
    assert_unsolvable(places | {"filed at this level": None}, requests, f"regions below {query}")

    if page.get_by_text(WITHHELD, exact=True).count():
        expect(page.locator(".dash-withheld")).to_be_visible()  # the page says why
    else:
        expect(page.locator(".dash-withheld")).to_have_count(0)
    check_page(page, f"public_figures_{query.replace('=', '_') or 'province'}_360")


def test_every_rate_states_its_base_and_agrees_with_the_counts(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/dashboard/public?lang=en")
    requests = cell(kpi(page, "Requests"))
    period = page.locator("#dashboard-live .kpis").nth(1)
    for label in ("Resolved", "On time", "Satisfied"):
        figure = period.locator(".kpi", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd")
        rate, base = kpi(page, label), figure.locator(".kpi-base")
        if rate == "—":
            expect(base).to_have_count(0)  # no rate, and no base that would tell its parts
            continue
        part, whole = (int(n.replace(",", "")) for n in BASE.match(base.text_content()).groups())
        assert f"{part / whole * 100:.1f}%" == rate, (label, rate, part, whole)
        assert part in (0, whole) or (part >= 5 and whole - part >= 5), (label, part, whole)
        if label == "Resolved" and isinstance(requests, int):
            assert whole <= requests
        box = base.bounding_box()
        assert box and box["width"] > 0 and box["x"] + box["width"] <= 360  # beside the rate, on the phone
    check_page(page, "public_figures_rates_en_360")


def test_a_k_line_with_nothing_to_draw_says_why(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/dashboard/public?lang=en&region=4453")  # 云浮市: the demo has no contacts there
    note = page.locator("section[aria-labelledby='kline-title'] .dash-note")
    expect(note.first).to_have_text("No contacts in these days.")
    expect(note.first).to_be_visible()
    check_page(page, "public_figures_empty_kline_360")
