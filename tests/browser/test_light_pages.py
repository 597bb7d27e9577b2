"""Light pages on a weak network: the grievance form's first load is at most 40 KB on the wire (compressed), and
a repeat visit transfers only the HTML, every static file coming from the browser's cache without asking."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page

pytestmark = pytest.mark.browser

BUDGET = 40 * 1024


def _visit(page: Page, path: str) -> dict[str, dict]:
    """Load `path` and return every request the page made: bytes on the wire (headers and compressed body, as
    Chromium's network stack counts them), whether it came from the cache, and its encoding."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, dict] = {}

    def response(event):
        r = event["response"]
        seen.setdefault(event["requestId"], {}).update(
            url=r["url"], status=r["status"], cached=bool(r.get("fromDiskCache") or r.get("fromMemoryCache")),
            encoding={k.lower(): v for k, v in r["headers"].items()}.get("content-encoding"))

    cdp.on("Network.responseReceived", response)
    cdp.on("Network.requestServedFromCache", lambda e: seen.setdefault(e["requestId"], {}).update(cached=True))
    cdp.on("Network.loadingFinished",
           lambda e: seen.setdefault(e["requestId"], {}).update(wire=e["encodedDataLength"]))
    page.goto(path, wait_until="load")
    page.wait_for_load_state("networkidle")
    cdp.detach()
    return {v["url"]: v for v in seen.values() if "url" in v}


def test_the_grievance_form_is_light_on_first_load_and_only_the_page_on_a_repeat_visit(context):
    first = _visit(context.new_page(), "/grievances/")
    static = {url: r for url, r in first.items() if "/static/" in url}
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in static} >= {"portal.css", "htmx.min.js"}
    assert all("?v=" in url for url in static), static
    assert all(r["encoding"] == "br" for url, r in first.items() if not url.endswith(".png")), first
    total = sum(r.get("wire", 0) for r in first.values())
    print(f"first load: {total} bytes on the wire in {len(first)} requests")
    assert total <= BUDGET, {url: r.get("wire") for url, r in first.items()}

    page = context.new_page()
    repeat = _visit(page, "/grievances/")
    fetched = [url for url, r in repeat.items() if not r.get("cached")]
    assert [urlsplit(url).path for url in fetched] == ["/grievances/"], repeat
    assert {url for url, r in repeat.items() if r.get("cached")} == set(static)
    page_bytes = sum(repeat[url].get("wire", 0) for url in fetched)
    print(f"repeat visit: {page_bytes} bytes on the wire")
    assert page_bytes < total / 2

    # What the user sees is the whole form, styled and working (htmx loaded from the cache).
    expect(page.locator("h1")).to_be_visible()
    box = page.locator("h1").bounding_box()
    assert box and 0 <= box["y"] < 640 and box["x"] + box["width"] <= 360
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("getComputedStyle(document.body).marginTop") != "8px"  # portal.css applied, not defaults
    check_page(page, "light_pages_grievance_repeat")
