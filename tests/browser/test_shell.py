"""The UI shell as a worker meets it on a cheap phone: 360x640, Chinese first, htmx where it helps and
nothing that needs it. Every page a journey reaches goes through check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, MEMBER_PHONE, check_page, sign_in, texts

pytestmark = pytest.mark.browser

STAFF_PHONE = "19900000003"  # demo staff of 天河区总工会
OTHER_STAFF_PHONE = "19900000002"  # demo staff of 广州市总工会; only ever gets a wrong password here

NAV_ZH = ["诉求", "进度", "驿站", "会员", "登录"]
NAV_EN = ["Submit", "Track", "Stations", "Member", "Sign in"]
CJK = re.compile(r"[\u4e00-\u9fff]")


# The focused element's outline, and its contrast with the background it is drawn on: the element's own
# for a ring inset with a negative offset, else the nearest opaque background around it.
FOCUS_RING = """() => {
    const el = document.activeElement, style = getComputedStyle(el);
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const opaque = c => { const v = rgb(c); return v.length === 3 || (v.length === 4 && v[3] === 1); };
    let node = parseFloat(style.outlineOffset) < 0 ? el : el.parentElement, background = 'rgb(255, 255, 255)';
    for (; node; node = node.parentElement) {
        const c = getComputedStyle(node).backgroundColor;
        if (opaque(c)) { background = c; break; }
    }
    const lum = c => {
        const [r, g, b] = rgb(c).slice(0, 3).map(v => v / 255)
            .map(v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [hi, lo] = [lum(style.outlineColor), lum(background)].sort((a, b) => b - a);
    return {tag: el.tagName, href: el.getAttribute('href'), text: el.innerText.trim().slice(0, 30),
            inNav: !!el.closest('nav.bottom-nav'), outline: style.outlineStyle,
            width: parseFloat(style.outlineWidth), color: style.outlineColor, background,
            contrast: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100};
}"""


def nav(page: Page):
    return page.locator("nav.bottom-nav")


def nav_link(page: Page, label: str):
    return nav(page).get_by_role("link", name=label, exact=True)


def expect_current(page: Page, label: str) -> None:
    """The nav item `label`, and only it, is marked as the current page."""
    expect(nav_link(page, label)).to_have_attribute("aria-current", "page")
    expect(nav(page).locator("a[aria-current]")).to_have_count(1)


def test_chinese_by_default_and_the_bottom_navigation_leads_everywhere(page: Page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text(CJK)
    assert texts(nav(page).get_by_role("link")) == NAV_ZH
    check_page(page, "home")

    for label, path, heading, name in [
        ("诉求", "/grievances/", "有事找工会", "grievances"),
        ("进度", "/track/", "查询办理进度", "track"),
        ("驿站", "/stations/", "查找驿站", "stations"),
        ("会员", "/member/", "会员普惠", "member"),
        ("登录", "/login", "登录", "login"),
    ]:
        nav_link(page, label).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.locator("h1")).to_have_text(heading)
        expect_current(page, label)
        check_page(page, name)


def test_the_union_picker_narrows_city_district_town_in_place(page: Page):
    page.goto("/unions")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    check_page(page, "unions")
    documents = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.evaluate("() => { window.__samePage = true }")  # gone if the document is ever reloaded

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true" and "city=4401" in r.url):
        page.get_by_label("市", exact=True).select_option(label="广州市")
    expect(page.get_by_label("区（县）")).to_be_visible()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true" and "district=440106" in r.url):
        page.get_by_label("区（县）").select_option(label="天河区")
    expect(page.get_by_label("镇（街道）")).to_be_visible()
    page.get_by_label("镇（街道）").select_option(label="石牌街道")

    result = page.locator("#regions-result .result")
    expect(result).to_contain_text("石牌街道总工会")
    expect(result).to_contain_text("广东省 › 广州市 › 天河区 › 石牌街道")
    expect(page).to_have_url(re.compile(r"[?&]city=4401(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]town=440106006(&|$)"))
    assert page.evaluate("() => window.__samePage === true"), "the page was reloaded instead of swapped"
    assert documents == [], f"htmx should swap #regions-picker, but whole pages were loaded: {documents}"
    # The choices survive the swaps, and the page still has exactly one picker.
    expect(page.locator("#regions-picker")).to_have_count(1)
    expect(page.get_by_label("市", exact=True)).to_have_value("4401")
    check_page(page, "unions_shipai")


def test_english_is_one_tap_away_and_is_remembered(page: Page):
    page.goto("/")
    page.get_by_role("link", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("We are here for workers")
    assert texts(nav(page).get_by_role("link")) == NAV_EN
    check_page(page, "home_en")

    for label, heading, name in [("Track", "Track my request", "track_en"),
                                 ("Stations", "Find a rest station", "stations_en")]:
        nav_link(page, label).click()  # plain links without ?lang=: the cookie keeps English
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect_current(page, label)
        check_page(page, name)

    page.get_by_role("link", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("查找驿站")
    nav_link(page, "会员").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    check_page(page, "member_back_in_chinese")


def test_an_english_speaking_browser_gets_english_on_the_first_visit(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("We are here for workers")
    expect(page.get_by_role("link", name="中文", exact=True)).to_be_visible()
    check_page(page, "home_en_accept_language")


def test_staff_sign_in_lands_on_the_workbench_and_sign_out_returns_home(page: Page):
    page.goto("/login")
    check_page(page, "login_staff")
    sign_in(page, STAFF_PHONE, DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.locator("h1")).to_have_text("天河区总工会")
    breadcrumb = page.get_by_role("navigation", name="工会层级").get_by_role("listitem")
    assert texts(breadcrumb) == ["广东省", "广州市", "天河区"]
    separator = breadcrumb.nth(1).evaluate("li => getComputedStyle(li, '::before').content")
    assert separator == '"›"'
    expect(breadcrumb.last.locator("[aria-current=location]")).to_have_text("天河区")
    expect_current(page, "工作台")
    check_page(page, "workbench")

    page.get_by_role("link", name="我的账户").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("h1")).to_have_text("我的账户")
    expect(page.locator(".facts")).to_contain_text("199****0003")
    check_page(page, "account_staff")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav(page).get_by_role("link").last).to_have_text("登录")
    assert texts(nav(page).get_by_role("link")) == NAV_ZH
    check_page(page, "home_signed_out")


def test_a_wrong_password_is_explained_and_the_number_is_kept(page: Page):
    page.goto("/login")
    sign_in(page, OTHER_STAFF_PHONE, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login$"))
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("手机号码或密码不正确。")
    expect(page.get_by_label("手机号码")).to_have_value(OTHER_STAFF_PHONE)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    expect(nav(page).get_by_role("link").last).to_have_text("登录")
    check_page(page, "login_wrong_password")


def test_without_javascript_the_picker_and_sign_in_still_work(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/unions")
    check_page(page, "unions_nojs")
    expect(page.get_by_label("区（县）")).to_have_count(0)

    page.get_by_label("市", exact=True).select_option(label="广州市")
    page.get_by_role("button", name="显示").click()
    expect(page).to_have_url(re.compile(r"/unions\?city=4401"))
    expect(page.get_by_label("区（县）")).to_be_visible()
    expect(page.get_by_label("区（县）").locator("option", has_text="天河区")).to_have_count(1)
    expect(page.locator("#regions-result .result")).to_contain_text("广州市总工会")
    check_page(page, "unions_nojs_guangzhou")

    page.goto("/login")
    sign_in(page, MEMBER_PHONE, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/member/card$"))  # a member lands on the card
    expect(page.locator("h1")).to_have_text("我的会员卡")
    page.goto("/account")
    expect(page.locator("h1")).to_have_text("我的账户")
    expect(page.locator(".facts").first).to_contain_text("演示·外卖骑手 李师傅")  # the membership's follow
    expect_current(page, "我的")
    check_page(page, "account_member_nojs")


def test_the_keyboard_reaches_everything_with_a_visible_focus(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳到主要内容")
    expect(skip).to_be_in_viewport()
    ring = page.evaluate(FOCUS_RING)
    assert ring["outline"] != "none" and ring["contrast"] >= 3, ring
    check_page(page, "home_skip_link_focused")

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#main$"))

    nav_hrefs = nav(page).get_by_role("link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    seen = []
    for _ in range(40):  # the home page has about a dozen stops after <main>
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_RING)
        if focused["tag"] == "BODY":
            break
        seen.append(focused)
        if focused["inNav"] and focused["href"] == nav_hrefs[-1]:
            break
    # WCAG 1.4.11: the ring must exist and stand out 3:1 against what it is drawn on (blue on union red
    # would not).
    invisible = [f for f in seen if f["outline"] == "none" or f["width"] < 2 or f["contrast"] < 3]
    assert invisible == [], f"focus is not visible on: {invisible}"
    reached = [f["href"] for f in seen if f["inNav"]]
    assert reached == nav_hrefs, f"Tab reached {reached} of the bottom navigation, expected {nav_hrefs}"


def test_an_unknown_address_gets_a_chinese_404_page_with_a_way_home(page: Page):
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("找不到页面")
    home = page.locator("main").get_by_role("link", name="返回首页")
    expect(home).to_have_attribute("href", "/")
    check_page(page, "not_found")
    home.click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text(CJK)
