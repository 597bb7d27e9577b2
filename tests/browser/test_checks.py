"""check_page must fail when it should: a helper that silently passes would make the journeys worthless.
Each broken page is served by a route in the browser, at the live server's address, with the portal's CSP."""

from __future__ import annotations

import pytest

from tests.browser import conftest
from tests.browser.conftest import check_page

pytestmark = pytest.mark.browser

CSP = "default-src 'self'; script-src 'self'; style-src 'self'"
PAGE = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>测试</title>{head}</head>' \
       "<body><main><h1>测试页</h1>{body}</main></body></html>"


@pytest.fixture(autouse=True)
def _screenshots_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SCREENSHOTS", tmp_path)


def serve(page, body: str = "", head: str = "", csp: bool = True) -> None:
    headers = {"Content-Security-Policy": CSP} if csp else {}
    page.route("**/broken", lambda route: route.fulfill(
        status=200, headers=headers, content_type="text/html; charset=utf-8",
        body=PAGE.format(head=head, body=body)))
    page.goto("/broken")


def test_a_clean_page_passes(page):
    serve(page, body="<p>一切正常。</p>")
    check_page(page, "clean")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_accessibility_violation_fails_with_its_id_and_target(new_context, javascript):
    page = new_context(java_script_enabled=javascript).new_page()
    serve(page, body='<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')
    with pytest.raises(AssertionError, match=r"(?s)image-alt \[critical\].*at img"):
        check_page(page, "axe")


def test_sideways_scrolling_fails(page):
    serve(page, head="<style>p { width: 600px }</style>", body="<p>太宽了</p>", csp=False)
    with pytest.raises(AssertionError, match="scrolls sideways: the page is 6.. px wide in a 360 px window"):
        check_page(page, "overflow")


def test_a_csp_violation_in_the_console_fails(page):
    serve(page, body="<script>document.title = 'inline'</script>")
    with pytest.raises(AssertionError, match="(?s)console logged errors.*Content Security Policy"):
        check_page(page, "csp")
