"""Browser journeys: the real production path (migrations, demo data, gunicorn) driven by Chromium.

One live server serves the whole session. Each test gets a fresh browser context at 360x640 in zh-CN;
`new_context(...)` makes others (another locale, JavaScript off). Every page a test visits goes through
`check_page`: axe-core finds no violations, nothing overflows 360 px, nothing was logged to the console
(CSP violations included), and a full-page screenshot lands in artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from portal.demo import DEMO_SECOND_FACTORS
from portal.services.twofactor import STEP_SECONDS
from tests.live import REPO, STOP_TIMEOUT_S, gunicorn

SCREENSHOTS = REPO / "artifacts" / "screenshots"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
CHROMIUM = "/usr/bin/chromium"
# Playwright cannot download its own browsers here, and without these flags Chromium keeps calling home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 640}

# Console errors and uncaught exceptions of every page, collected from the moment it is created.
_console_errors: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()
_without_javascript: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


# ---------------------------------------------------------------------------------------------- server



def _ensure_translations(env: dict[str, str]) -> None:
    """What `make translations` does, when the compiled catalogue is missing or older than its source."""
    for po in (REPO / "portal" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "--domain", "messages",
                            "--directory", str(REPO / "portal" / "translations")],
                           cwd=REPO, env=env, check=True, capture_output=True)
            return



@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Migrate and load the demo data exactly as `make run` does, then serve with gunicorn on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("live")
    env = os.environ.copy()
    env.update(
        PORTAL_ENVIRONMENT="development",
        PORTAL_DATABASE_URL=f"sqlite:///{tmp / 'portal.sqlite3'}",
        PORTAL_SECRET_KEY=secrets.token_hex(32),
        PORTAL_UPLOAD_DIR=str(tmp / "uploads"),  # evidence the journeys upload stays out of instance/
        PORTAL_QUIET_HOURS="[0, 0]",  # text messages go out at whatever Beijing hour the suite runs
        FLASK_APP="wsgi",
    )
    _ensure_translations(env)
    for command in (["db", "upgrade"], ["demo", "load"]):
        try:
            subprocess.run([sys.executable, "-m", "flask", *command], cwd=REPO, env=env, check=True,
                           capture_output=True, text=True)
        except subprocess.CalledProcessError as error:
            pytest.fail(f"flask {' '.join(command)} failed ({error.returncode}):\n{error.stdout}{error.stderr}",
                        pytrace=False)

    with gunicorn(env, tmp / "gunicorn.log", "--workers", "2") as port:
        url = f"http://127.0.0.1:{port}"
        with _background_worker({**env, "PORTAL_PUBLIC_URL": url}, tmp / "worker.log"):
            yield url


@contextmanager
def _background_worker(env: dict[str, str], log_path: Path):
    """`flask worker` beside gunicorn, as `make run` starts it: it delivers the text messages (with the development
    provider, into the outbox page the journeys read). Stopped by its PID: TERM, then KILL after a bound."""
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the worker
        worker = subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


# --------------------------------------------------------------------------------------------- browser

@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _watch(page: Page) -> None:
    """Collect console errors and uncaught exceptions from the moment the page exists."""
    errors: list[str] = []
    _console_errors[page] = errors

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url") or ""
        # The document's own status (404 for the not-found page) is logged as a failed resource; the
        # test asserts that status itself. Any other failed load, CSP report or script error counts.
        if message.text.startswith("Failed to load resource") and url == page.url:
            return
        errors.append(f"console error: {message.text}" + (f" ({url})" if url else ""))

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}"))


@pytest.fixture
def new_context(browser: Browser, live_server: str):
    """Make a browser context: 360x640, zh-CN and the live server as base URL unless told otherwise,
    e.g. new_context(locale="en-US") or new_context(java_script_enabled=False)."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = browser.new_context(**{"viewport": PHONE, "locale": "zh-CN", "base_url": live_server,
                                         **options})
        context.set_default_timeout(10_000)
        context.on("page", _watch)
        if options.get("java_script_enabled") is False:
            _without_javascript.add(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# ---------------------------------------------------------------------------------------------- checks

def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}] {v['help']} ({v.get('helpUrl', '')})")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.extend(f"       {line}" for line in (node.get("failureSummary") or "").splitlines())
    return "\n".join(lines)


# axe leaves an empty style="" on some form controls it inspects. Take those off again: htmx copies the
# style attribute of a swapped element with the same id, which the CSP then refuses (a console error the
# page itself never causes).
AXE_RUN = """async () => {
    const styled = new Set(document.querySelectorAll('[style]'));
    try {
        return (await axe.run(document, {resultTypes: ['violations']})).violations;
    } finally {
        for (const el of document.querySelectorAll('[style=""]')) { if (!styled.has(el)) el.removeAttribute('style'); }
    }
}"""


def _audit(page: Page) -> tuple[list[dict], list[int]]:
    """axe-core violations and [scrollWidth, innerWidth]. The pages' CSP refuses inline <script>, so
    add_script_tag cannot inject axe; evaluating its source through the DevTools protocol is not subject
    to the CSP (and logs nothing)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    violations = page.evaluate(AXE_RUN)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return violations, widths


def _audit_without_javascript(page: Page) -> tuple[list[dict], list[int]]:
    """With JavaScript off the page cannot run axe (evaluate never gets a script context, and axe needs
    timers). Audit an identical twin instead: the same DOM, served at the same URL with the same CSS and
    viewport, in a context with JavaScript on but the page's own scripts refused."""
    html, url = page.content(), page.url
    twin_context = page.context.browser.new_context(viewport=page.viewport_size)
    try:
        twin = twin_context.new_page()
        twin.route(lambda u: u == url, lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=html))
        twin.route("**/*.js", lambda route: route.abort())
        twin.goto(url)
        return _audit(twin)
    finally:
        twin_context.close()


def _screenshot(page: Page, name: str) -> None:
    """Full page, taken with the window as tall as the page so the fixed bottom bar sits at the bottom
    (a plain full-page capture leaves it floating where the first screen ended)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    box = page.locator("html").bounding_box()
    tall = max(size["height"], int(box["height"] + 0.999)) if box else size["height"]
    try:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    finally:
        page.set_viewport_size(size)


def check_page(page: Page, name: str) -> None:
    """What every visited page must pass; `name` names artifacts/screenshots/<name>.png."""
    page.wait_for_load_state("load")
    _screenshot(page, name)  # first, so a failing page still leaves its picture

    if page.context in _without_javascript:
        violations, (scroll_width, window_width) = _audit_without_javascript(page)
    else:
        violations, (scroll_width, window_width) = _audit(page)
    assert violations == [], (f"axe found {len(violations)} accessibility violation(s) on {name} "
                              f"({page.url}):\n{_describe(violations)}")
    assert scroll_width <= window_width, (f"{name} ({page.url}) scrolls sideways: the page is {scroll_width} px "
                                          f"wide in a {window_width} px window")
    errors = _console_errors.get(page, [])
    assert errors == [], f"the console logged errors on {name} ({page.url}):\n" + "\n".join(errors)


def texts(locator) -> list[str]:
    """The visible text of each matched element, whitespace collapsed."""
    return [" ".join(t.split()) for t in locator.all_inner_texts()]


# ------------------------------------------------------------------------------------- journeys' steps

MEMBER_PHONE = "19900000101"  # the demo's member
DEMO_PASSWORD = "Demo-Portal-2026"  # noqa: S105 — the published demo password
NUMBER = re.compile(r"44-\d{8}-\d{4}")
CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


# The demo staff's and administrator's authenticator keys (portal/demo), kept up to date by a journey that sets
# one up anew, and the last time step each account used: a code is accepted once.
SECOND_FACTORS = dict(DEMO_SECOND_FACTORS)
_last_step: dict[str, int] = {}


def sign_in(page: Page, phone: str, password: str) -> None:
    """The sign-in form; for an account with a known authenticator key, then the code step (when the password
    was right and the portal asks for it)."""
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="登录").click()
    if phone in SECOND_FACTORS and urlsplit(page.url).path == "/login/code":
        enter_code(page, phone)


def next_code(phone: str) -> str:
    """A code of the account's key that it has not used yet, by the real clock the live server keeps: the
    current step or the next (the server takes one either side), waiting for a later step when both are used."""
    now = int(time.time()) // STEP_SECONDS
    step = max(now, _last_step.get(phone, -1) + 1)
    if step > now + 1:
        time.sleep((step - 1) * STEP_SECONDS - time.time() + 0.5)
    _last_step[phone] = step
    return pyotp.TOTP(SECOND_FACTORS[phone]).at(step * STEP_SECONDS)


def set_up_anew(phone: str, secret: str) -> None:
    """A journey gave the account a new authenticator key: later sign-ins use it (its steps count afresh)."""
    SECOND_FACTORS[phone] = secret
    _last_step.pop(phone, None)


def enter_code(page: Page, phone: str) -> None:
    """The code step, in whatever language the page speaks."""
    page.locator("main input[name=code]").fill(next_code(phone))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def pass_second_factor(page: Page, phone: str) -> None:
    """After a journey's own sign-in form was sent: the code step, for an account with a known key."""
    if phone in SECOND_FACTORS:
        page.wait_for_url(lambda url: urlsplit(url).path != "/login")
        if urlsplit(page.url).path == "/login/code":
            enter_code(page, phone)


def receipt_of(page: Page) -> tuple[str, str]:
    """The ticket number and query code the receipt shows."""
    facts = page.locator(".receipt .facts dd")
    expect(facts.nth(0)).to_have_text(NUMBER)
    expect(facts.nth(1)).to_have_text(CODE)
    return facts.nth(0).inner_text().strip(), facts.nth(1).inner_text().strip()


def choose_place_with_htmx(page: Page, city: str, district: str, town: str | None = None) -> None:
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true" and "city=" in r.url):
        page.locator("#picker-city").select_option(label=city)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true" and "district=" in r.url):
        page.locator("#picker-district").select_option(label=district)
    if town:
        page.locator("#picker-town").select_option(label=town)


def fill_in_tianhe(page: Page, kind: str, category: str, text: str) -> None:
    """The grievance form on `page`, filled for a place in 广州市天河区 and agreed to, not yet sent."""
    page.get_by_label(kind).check()
    page.get_by_label("属于哪一类？").select_option(category)
    page.get_by_label("发生了什么？").fill(text)
    choose_place_with_htmx(page, "广州市", "天河区")
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()


def take_staff_steps(page: Page, number: str, steps: list[tuple[str, dict[str, str]]]) -> None:
    """Signed-in staff find the case by its number in the inbox and take `steps` in turn (action, {field selector:
    value}), each confirmed by the page."""
    page.goto("/staff/")
    search = page.get_by_role("searchbox", name="搜索")
    search.fill(number)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(number)))
    page.locator("#staff-inbox").get_by_role("link").filter(has_text=number).click()
    expect(page.locator("h1")).to_contain_text(number)
    for action, fields in steps:
        form = page.locator(f"#action-{action}")
        for selector, value in fields.items():
            form.locator(selector).fill(value)
        form.get_by_role("button").click()
        expect(page.get_by_role("status")).to_have_text("已完成。")
