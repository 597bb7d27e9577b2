"""From a station's QR poster to a sent complaint at 360x640 (issue 14, item 6): the poster's "report a problem here"
code, read from the poster by a real QR decoder and opened as a phone's scan would, leads to a short form with
the place filled in; at most 3 screens down to the send button and 6 taps or fields to a receipt, which takes the
focus inside the first screen. Ticking "anonymous" hides name and phone with JavaScript on and off, and the server
keeps neither; a problem in the folded details opens them and focuses the field."""

from __future__ import annotations

import io
import re
import sqlite3
from contextlib import closing

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, check_page, receipt_of

pytestmark = pytest.mark.browser

STATION = "石牌街道工会驿站"  # the demo's first station, in 石牌街道 (天河区, 广州市)


def scan(page: Page, qr) -> str:
    """What a phone's camera reads from a QR code on the page: the text a decoder finds in its picture."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode, found
    return found[0].text


def first_screen_bottom(page: Page) -> float:
    """Where the first screen ends for the eye: the top of the fixed bottom bar, or the window's bottom."""
    return page.evaluate("() => { const bar = document.querySelector('.bottom-nav');"
                         " return bar ? bar.getBoundingClientRect().top : innerHeight; }")


def assert_in_first_screen(page: Page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= first_screen_bottom(page), box


def screens_down_to(page: Page, locator) -> float:
    """How many 640 px screens of the page, from its top, it takes to reach the bottom of `locator`."""
    page.evaluate("() => window.scrollTo(0, 0)")
    box = locator.bounding_box()
    return (box["y"] + box["height"]) / PHONE["height"]


class Taps:
    """The taps and typed fields a worker makes, counted as the test makes them."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, what: str, action) -> None:
        action()
        self.made.append(what)


def poster_report_link(page: Page, heading: str = "在此反映问题") -> str:
    """The address a phone reads from the demo station's "report a problem here" code (checked against the
    address printed under it, and against the station's own code beside it)."""
    page.goto("/stations/1/poster")
    expect(page.locator("h1")).to_have_text(STATION)
    report = page.locator(".poster-action-report")
    expect(report.get_by_role("heading")).to_have_text(heading)
    link = scan(page, report.locator("svg.qr"))
    expect(report.locator(".poster-link")).to_have_text(link)  # the address printed under the code, for typing
    assert scan(page, page.locator(".poster-action").first.locator("svg.qr")).endswith("/s/" + link.rsplit("/", 1)[1])
    return link


def stored_contact(tmp_path_factory, number: str) -> tuple:
    """(anonymous, contact_name, contact_phone) as the live server stored the ticket (its SQLite database)."""
    rows = []
    # the live server's folder (pytest also links it as "livecurrent"), and any other server's
    for database in {path.resolve() for path in tmp_path_factory.getbasetemp().glob("live*/portal.sqlite3")}:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            rows += connection.execute("SELECT anonymous, contact_name, contact_phone FROM ticket WHERE number = ?",
                                       (number,)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_from_the_poster_s_report_code_to_a_receipt_in_three_screens_and_five_taps(page: Page):
    link = poster_report_link(page)
    check_page(page, "poster_to_complaint_poster")

    page.goto(link)  # as the phone opens the scanned address
    expect(page.locator("h1")).to_have_text("有事找工会")
    place = page.locator("#regions-result")
    expect(place).to_contain_text("石牌街道总工会")  # the place comes with the poster, shown without opening anything
    expect(page.locator("#grievance-place")).to_contain_text(f"来自{STATION}的二维码海报。")
    expect(page.get_by_label("镇（街道）")).to_be_hidden()  # the lists fold behind "choose another place"
    expect(page.get_by_label("用人单位")).to_be_hidden()  # and the optional rest behind "more details"
    send = page.get_by_role("button", name="提交诉求")
    screens = screens_down_to(page, send)
    assert screens <= 3, f"{screens:.2f} screens down to the send button"
    check_page(page, "poster_to_complaint_form")

    taps = Taps()
    taps("kind", lambda: page.get_by_label("申诉投诉").check())
    taps("what happened", lambda: page.get_by_label("发生了什么？").fill("驿站旁边的工地拖欠我们两个月工资。"))
    suggestion = page.locator("#grievances-suggestion")
    expect(suggestion).to_contain_text("追索劳动报酬")  # offered under the list it refers to, never applied
    category = page.get_by_label("属于哪一类？")
    assert suggestion.bounding_box()["y"] - (category.bounding_box()["y"] + category.bounding_box()["height"]) < 16
    taps("category", lambda: category.select_option("labour.wages"))
    taps("consent", lambda: page.get_by_label("我同意工会使用以上信息办理我的诉求。").check())
    check_page(page, "poster_to_complaint_filled")
    taps("send", lambda: send.click())
    assert len(taps.made) <= 6, taps.made

    number, _ = receipt_of(page)
    receipt = page.locator("section.receipt")
    expect(receipt).to_be_focused()  # a screen reader starts with "we have your request" and the number
    expect(receipt).to_have_accessible_name("我们已收到您的诉求")
    expect(receipt).to_have_accessible_description(re.compile(rf"^工单号\s*{number}$"))
    assert_in_first_screen(page, page.locator(".receipt .facts dd").first)
    check_page(page, "poster_to_complaint_receipt")


def test_the_station_page_offers_report_a_problem_in_the_first_screen(page: Page):
    page.goto("/stations/1")
    expect(page.locator("h1")).to_have_text(STATION)
    report = page.get_by_role("link", name="在此反映问题")
    assert_in_first_screen(page, report)
    check_page(page, "poster_to_complaint_station")
    report.click()
    expect(page.locator("#regions-result")).to_contain_text("石牌街道总工会")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_ticking_anonymous_hides_name_and_phone_and_the_server_keeps_neither(new_context, tmp_path_factory,
                                                                           javascript):
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto(poster_report_link(page))
    page.locator("details.more-details > summary").click()
    anonymous = page.get_by_label("匿名提交")
    name, phone = page.get_by_label("您的姓名"), page.get_by_label("您的手机号码")
    expect(anonymous).to_be_checked()
    expect(name).to_be_hidden()
    expect(phone).to_be_hidden()
    anonymous.uncheck()
    expect(name).to_be_visible()
    name.fill("王小明")
    phone.fill("13800138000")
    check_page(page, f"poster_to_complaint_contact_{'js' if javascript else 'nojs'}")
    anonymous.check()  # changed their mind, with both typed
    expect(name).to_be_hidden()
    expect(phone).to_be_hidden()
    check_page(page, f"poster_to_complaint_anonymous_{'js' if javascript else 'nojs'}")

    page.get_by_label("咨询").check()
    page.get_by_label("发生了什么？").fill("想问一下夜班的加班费怎么算。")
    page.get_by_label("属于哪一类？").select_option("labour.hours")
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    page.get_by_role("button", name="提交诉求").click()
    number, _ = receipt_of(page)
    assert stored_contact(tmp_path_factory, number) == (1, "", "")


def test_a_problem_in_the_folded_details_opens_them_and_takes_the_focus(page: Page):
    page.goto(poster_report_link(page))
    page.get_by_label("求助").check()
    page.get_by_label("发生了什么？").fill("干完活老板只给了一半工钱。")
    page.get_by_label("属于哪一类？").select_option("labour.wages")
    more = page.locator("details.more-details")
    more.locator(":scope > summary").click()
    page.get_by_label("被拖欠金额（元）").fill("好几千")
    more.locator(":scope > summary").click()  # folded again before sending
    expect(page.get_by_label("被拖欠金额（元）")).to_be_hidden()
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    page.get_by_role("button", name="提交诉求").click()

    amount = page.get_by_label("被拖欠金额（元）")
    expect(more).to_have_attribute("open", "")
    expect(amount).to_be_focused()
    expect(amount).to_have_value("好几千")
    expect(page.locator("#amount_owed-error")).to_have_text("请输入金额（元），例如 3500。")
    assert_in_first_screen(page, amount)
    check_page(page, "poster_to_complaint_refused")


def test_in_english_too_the_form_from_the_poster_fits_in_three_screens(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto(poster_report_link(page, "Report a problem here"))
    expect(page.locator("h1")).to_have_text("Ask the union for help")
    expect(page.locator("#regions-result")).to_contain_text("Shipai Subdistrict Federation of Trade Unions")
    screens = screens_down_to(page, page.get_by_role("button", name="Send my request"))
    assert screens <= 3, f"{screens:.2f} screens down to the send button"
    check_page(page, "poster_to_complaint_form_en")


def test_the_poster_prints_on_one_a4_page_with_both_codes_readable_side_by_side(page: Page):
    page.goto("/stations/1/poster")
    check_page(page, "poster_to_complaint_poster_phone")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    codes = page.locator("svg.qr")
    station, report = codes.nth(0).bounding_box(), codes.nth(1).bounding_box()
    assert station["y"] == report["y"] and station["x"] + station["width"] < report["x"]  # level, side by side
    assert station["width"] >= 290 and report["y"] + report["height"] <= 1123  # 8 cm (302 px), on the page
    assert scan(page, codes.nth(0)).endswith("/s/" + scan(page, codes.nth(1)).rsplit("/", 1)[1])
    assert "/g/" in scan(page, codes.nth(1))
