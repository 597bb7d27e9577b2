"""The dashboard on a phone (issue 14, item 11): its first load is at most 400 KB on the wire, compressed, with
ECharts' custom build (scripts/echarts/build.sh) drawing every chart; and a hidden page polls its live part far
less often, asking at once when it is shown again.

A hidden page is emulated: an init script makes `document.visibilityState` follow `window.__hidden`, and the
test dispatches `visibilitychange` as the browser does when a tab goes to the background or comes back.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, check_page, sign_in

pytestmark = pytest.mark.browser

BUDGET = 400 * 1024  # the budget for the dashboard's first load on a phone
PHONE_WIDTH = 360
CHARTS = ("channels", "kline", "words", "categories")
WINDOW_S = 4  # how long each state of the page is watched
HIDDEN_SWITCH = """(() => {
  window.__hidden = false;
  for (const [name, get] of [["visibilityState", () => (window.__hidden ? "hidden" : "visible")],
                             ["hidden", () => window.__hidden]]) {
    Object.defineProperty(Document.prototype, name, { configurable: true, get });
  }
  window.__sent = 0;  // requests of the live part htmx actually sent
  document.addEventListener("htmx:beforeSend", (e) => { if (e.detail.elt.id === "dashboard-live") window.__sent++; });
})()"""
# Hide or show the page; returns how many live-part requests were sent while the event was being handled.
SET_HIDDEN = """hidden => { const before = window.__sent; window.__hidden = hidden;
  document.dispatchEvent(new Event("visibilitychange")); return window.__sent - before; }"""


def first_load(page: Page, path: str) -> dict[str, dict]:
    """Load `path` with the browser's cache off (what a phone that never saw the portal fetches) and return each
    request but the live part's polls: bytes on the wire (headers and compressed body, as Chromium counts them)
    and the encoding. Done once the charts are drawn."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    seen: dict[str, dict] = {}
    cdp.on("Network.responseReceived", lambda e: seen.setdefault(e["requestId"], {}).update(
        url=e["response"]["url"],
        encoding={k.lower(): v for k, v in e["response"]["headers"].items()}.get("content-encoding")))
    cdp.on("Network.loadingFinished",
           lambda e: seen.setdefault(e["requestId"], {}).update(wire=e["encodedDataLength"]))
    page.goto(path, wait_until="load")
    expect(page.locator("[data-dashboard].charts-on")).to_have_count(1)
    for name in CHARTS:
        expect(page.locator(f"[data-chart={name}] canvas")).to_have_count(1)
    page.wait_for_timeout(300)  # the last loadingFinished events
    cdp.detach()
    return {v["url"]: v for v in seen.values()  # data: URLs (the stylesheet's icons) cross no wire
            if v.get("url", "").startswith("http") and not urlsplit(v["url"]).path.endswith("/live")}


@pytest.mark.parametrize("who", ["public", "staff"])
def test_the_dashboard_on_a_phone_loads_at_most_400_kb_and_draws_every_chart(new_context, who):
    page = new_context(reduced_motion="reduce").new_page()
    path = "/dashboard/public"
    if who == "staff":
        path = "/dashboard/"
        page.goto(f"/login?next={path}")
        sign_in(page, "19900000003", DEMO_PASSWORD)  # 天河区总工会's staff
    loaded = first_load(page, path)
    scripts = [urlsplit(url).path.rsplit("/", 1)[1] for url in loaded if url.endswith(".js") or ".js?" in url]
    assert "echarts-dashboard.min.js" in scripts and "echarts.min.js" not in scripts, scripts
    assert [url for url, r in loaded.items() if r["encoding"] != "br" and ".png" not in url] == []
    total = sum(r.get("wire", 0) for r in loaded.values())
    print(f"{who} dashboard, first load at 360x640: {total} bytes on the wire in {len(loaded)} requests")
    assert total <= BUDGET, {url: r.get("wire") for url, r in loaded.items()}

    # Every chart drawn, at a readable size, inside the phone's width; nothing makes the page scroll sideways.
    for name in CHARTS:
        box = page.locator(f"[data-chart={name}] canvas").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (name, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, (name, box)
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    check_page(page, f"dashboard_light_{who}_360")


def test_a_hidden_dashboard_polls_far_less_and_asks_at_once_when_shown_again(new_context):
    context = new_context()
    context.add_init_script(HIDDEN_SWITCH)
    page = context.new_page()
    polls: list[float] = []
    page.on("request", lambda r: polls.append(time.monotonic())
            if urlsplit(r.url).path == "/dashboard/public/live" else None)
    page.goto("/dashboard/public")
    expect(page.locator("[data-dashboard].charts-on")).to_have_count(1)

    def polls_within(seconds: float) -> int:
        before = len(polls)
        page.wait_for_timeout(seconds * 1000)  # events are delivered while Playwright waits
        return len(polls) - before

    shown = polls_within(WINDOW_S)
    assert shown >= WINDOW_S - 1, f"a shown screen polls every second: {shown} polls in {WINDOW_S} s"

    assert page.evaluate(SET_HIDDEN, True) == 0
    hidden = polls_within(WINDOW_S)
    assert hidden <= 1 < shown, f"hidden, the screen still polled {hidden} times in {WINDOW_S} s ({shown} shown)"

    # Shown again: the request goes out while the browser is still handling visibilitychange, not at a later tick.
    with page.expect_request(lambda r: urlsplit(r.url).path == "/dashboard/public/live", timeout=1000) as asked:
        assert page.evaluate(SET_HIDDEN, False) == 1
    assert asked.value.response().status in (200, 204)
    again = polls_within(WINDOW_S)
    assert again >= WINDOW_S - 1, f"shown again, the screen polls every second: {again} polls in {WINDOW_S} s"

    # The figures are still those of the screen, the first one on the phone's first screen.
    box = page.locator("#dashboard-live .kpis-today .kpi").first.bounding_box()
    assert box and 0 <= box["y"] < 640 and box["x"] + box["width"] <= PHONE_WIDTH, box
    check_page(page, "dashboard_hidden_then_shown_360")
