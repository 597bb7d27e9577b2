"""A grievance from the worker's phone to the union closest to them and back: submitted from a QR poster,
accepted and passed down province → city → district → town, answered, seen live on the worker's open
page, rated. Then the same form in English, without JavaScript, and tapped twice. Every page a journey
reaches goes through check_page."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import (
    CODE,
    DEMO_PASSWORD,
    NUMBER,
    check_page,
    choose_place_with_htmx,
    fill_in_tianhe,
    receipt_of,
    sign_in,
)

pytestmark = pytest.mark.browser

# Markup and a template expression: both must reach the staff as the characters the worker typed.
HOSTILE = "<script>alert(1)</script>{{7*7}}"
DESCRIPTION = f"老板拖欠我们三个月工资，一共 12 人。{HOSTILE}"
REPLY = "已约谈用人单位，承诺本周五前全额支付拖欠工资。"
PHOTO_NAME = "工资条.jpg"

# (phone, union, the union it passes the case down to; None answers the worker)
CHAIN = [
    ("19900000001", "province", "广州市总工会"),
    ("19900000002", "city", "天河区总工会"),
    ("19900000003", "district", "石牌街道总工会"),
    ("19900000004", "town", None),
]


def no_dialogs(page: Page) -> list[str]:
    """Every alert/confirm/prompt the page opens; a test asserts the list stays empty."""
    opened: list[str] = []

    def on_dialog(dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def photo(tmp_path: Path) -> Path:
    """A real JPEG: what a phone camera would attach."""
    image = Image.new("RGB", (800, 600), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for y in range(60, 560, 40):
        draw.line([(60, y), (740, y)], fill=(90, 90, 90), width=3)
    draw.rectangle([60, 20, 400, 50], fill=(179, 17, 31))
    path = tmp_path / PHOTO_NAME
    image.save(path, "JPEG", quality=85)
    return path


def wait_until(page: Page, condition, message: str, timeout_s: float = 5) -> None:
    """Let the page's events (route handlers included) run until `condition()` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        page.wait_for_timeout(20)


def staff_open_ticket(context: BrowserContext, phone: str, number: str, name: str) -> tuple[Page, list[str]]:
    """Sign in, find the ticket by its number in the inbox, open it; the page and the dialogs it opens."""
    page = context.new_page()
    dialogs = no_dialogs(page)
    page.goto("/login")
    if name == "province":  # the same page for every member of staff
        check_page(page, "journey_login")
    sign_in(page, phone, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    search = page.get_by_role("searchbox", name="搜索")
    search.fill(number)
    search.press("Enter")  # htmx swaps the list in place and puts ?q= in the address bar
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(number)))
    found = page.locator("#staff-inbox").get_by_role("link")
    expect(found).to_have_count(1)
    expect(found).to_contain_text(number)
    check_page(page, f"journey_inbox_{name}")
    found.click()
    expect(page.locator("h1")).to_contain_text(number)
    check_page(page, f"journey_ticket_{name}")
    return page, dialogs


def act(page: Page, action: str, name: str, **fields: str) -> None:
    """Fill one action's form on the ticket page, send it, and land back on the page, done."""
    form = page.locator(f"#action-{action}")
    if "target" in fields:
        form.get_by_label("转交给").select_option(label=fields["target"])
    if "note" in fields:
        form.locator("textarea[name=note]").fill(fields["note"])
    form.get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text("已完成。")
    expect(page.locator(f"#action-{action}")).to_have_count(0)
    check_page(page, f"journey_ticket_{name}_{action}")


def test_a_worker_s_appeal_goes_down_to_the_town_union_and_the_answer_appears_live(new_context, tmp_path):
    worker = new_context().new_page()
    worker_dialogs = no_dialogs(worker)

    # The QR poster of 石牌街道: the place is already chosen.
    worker.goto("/g/440106006")
    expect(worker.locator("h1")).to_have_text("有事找工会")
    expect(worker.get_by_label("市", exact=True)).to_have_value("4401")
    expect(worker.get_by_label("区（县）")).to_have_value("440106")
    expect(worker.get_by_label("镇（街道）")).to_have_value("440106006")
    expect(worker.get_by_label("镇（街道）").locator("option:checked")).to_have_text("石牌街道")
    expect(worker.locator("#regions-result")).to_contain_text("石牌街道总工会")
    expect(worker.get_by_label("匿名提交")).to_be_checked()
    check_page(worker, "journey_form_qr")

    worker.get_by_label("申诉投诉").check()
    worker.get_by_label("属于哪一类？").select_option("labour.wages")
    expect(worker.get_by_label("属于哪一类？").locator("option:checked")).to_have_text("追索劳动报酬（欠薪）")
    worker.get_by_label("发生了什么？").fill(DESCRIPTION)
    worker.locator("details.more-details > summary").click()  # employer, amount, files: on demand (issue 14)
    worker.locator("input[name=employer]").fill("某某建筑劳务有限公司")
    worker.locator("input[name=amount_owed]").fill("36000")
    worker.locator("input[name=workers_affected]").fill("12")
    worker.locator("input[name=evidence]").set_input_files(photo(tmp_path))
    worker.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    check_page(worker, "journey_form_filled")
    worker.get_by_role("button", name="提交诉求").click()

    expect(worker.locator("h1")).to_have_text("我们已收到您的诉求")
    number, code = receipt_of(worker)
    check_page(worker, "journey_receipt")

    # The receipt's link hands number and code to /track/ in the fragment; its script looks the ticket up.
    follow = worker.get_by_role("link", name="查看办理进度")
    expect(follow).to_have_attribute("href", f"/track/#number={number}&code={code}")
    follow.click()
    expect(worker).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    expect(worker.locator("h1")).to_contain_text(number)
    timeline = worker.locator("#tracking-timeline")
    expect(timeline.locator(".facts dd").first).to_have_text("已提交")
    expect(timeline).to_contain_text("附件 1 个")
    expect(worker.locator("#withdraw-form")).to_be_visible()  # only until the union accepts it
    expect(worker.locator("#rating-form")).to_have_count(0)
    check_page(worker, "journey_track_submitted")
    # From here on the worker's page is never reloaded: anything new must arrive through htmx.
    documents: list[str] = []
    worker.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    worker.evaluate("() => { window.__samePage = true }")

    for phone, name, target in CHAIN:
        page, staff_dialogs = staff_open_ticket(new_context(), phone, number, name)  # the staff's own browser
        if name == "province":
            # What the worker typed is shown as text: no markup, no template evaluation.
            statement = page.locator("blockquote.statement")
            expect(statement).to_have_text(DESCRIPTION)
            expect(statement.locator("script")).to_have_count(0)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in statement.inner_html()
            evidence = page.get_by_role("link", name=PHOTO_NAME)
            expect(evidence).to_have_attribute("href", re.compile(r"/staff/tickets/\d+/files/\d+$"))
            expect(evidence).to_have_attribute("download", "")
        act(page, "accept", name)
        # The province receives every case (已受理); the unions below take on what is passed to them (办理中).
        expect(page.locator(".facts dd").first).to_have_text("已受理" if name == "province" else "办理中")
        if target:
            act(page, "dispatch", name, target=target, note=f"请{target}核实处理。")
            expect(page.locator(".facts dd").nth(1)).to_have_text(target)
        else:
            act(page, "reply", name, note=REPLY)
            expect(page.locator(".facts dd").first).to_have_text("已答复")
        assert staff_dialogs == [], f"a dialog opened for the {name} staff: {staff_dialogs}"
        page.context.close()

    # The worker's open page catches up by itself within one refresh (every 5 s).
    expect(timeline.locator(".facts dd").first).to_have_text("已答复", timeout=15_000)
    expect(timeline.locator("blockquote")).to_contain_text(REPLY)
    expect(timeline).to_contain_text("石牌街道总工会")
    assert worker.evaluate("() => window.__samePage === true"), "the worker's page was reloaded"
    assert documents == [], f"the answer should arrive through htmx, but pages were loaded: {documents}"
    # The forms follow the status too: withdrawing is gone, rating has come.
    expect(worker.locator("#withdraw-form")).to_have_count(0)
    rating = worker.locator("#rating-form")
    expect(rating.get_by_role("heading", name="评价答复")).to_be_visible()
    check_page(worker, "journey_track_replied_live")

    # A refresh while the worker is rating keeps what they chose and typed.
    rating.get_by_label("满意", exact=True).check()
    rating.get_by_label("还有什么想说的？（选填）").fill("谢谢工会！")
    worker.evaluate("() => { document.getElementById('tracking-timeline').dataset.beforeRefresh = '' }")
    expect(worker.locator("#tracking-timeline[data-before-refresh]")).to_have_count(0, timeout=10_000)  # swapped
    expect(rating.get_by_label("满意", exact=True)).to_be_checked()
    expect(rating.get_by_label("还有什么想说的？（选填）")).to_have_value("谢谢工会！")
    rating.get_by_role("button", name="提交评价").click()
    expect(worker.get_by_role("status")).to_have_text("感谢您的评价。")
    expect(timeline.locator(".facts dd").first).to_have_text("已办结")
    expect(timeline.locator(".facts")).to_contain_text("满意")
    expect(worker.locator("#rating-form")).to_have_count(0)
    expect(timeline.locator(".timeline")).to_contain_text("谢谢工会！")
    check_page(worker, "journey_track_closed")
    assert worker_dialogs == [], f"a dialog opened: {worker_dialogs}"


def test_an_english_speaking_worker_asks_a_question_and_follows_it(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/grievances/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Ask the union for help")
    check_page(page, "journey_en_form")

    page.get_by_label("Consultation", exact=True).check()
    page.get_by_label("What is it about?").select_option(label="Labour contract dispute")
    page.get_by_label("What happened?").fill("Must my employer give me a written contract after one month?")
    choose_place_with_htmx(page, "Guangzhou", "Tianhe District")  # place names in English too
    expect(page.locator("#regions-result")).to_contain_text("Tianhe District Federation of Trade Unions")
    page.get_by_label("I agree that the union uses this information to handle my request.").check()
    page.get_by_role("button", name="Send my request").click()

    expect(page.locator("h1")).to_have_text("We have your request")
    expect(page.locator(".receipt .facts dt")).to_have_text(["Ticket number", "Query code"])
    number, code = receipt_of(page)
    check_page(page, "journey_en_receipt")

    page.get_by_role("link", name="Follow my request").click()
    expect(page).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    expect(page.locator("h1")).to_have_text(f"Request {number}")
    expect(page.locator("#tracking-timeline .facts dd").first).to_have_text("Submitted")
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    check_page(page, "journey_en_track")


def test_without_javascript_the_place_lists_are_filled_by_reloading(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/grievances/")
    update = page.get_by_role("button", name="更新地点选项")
    expect(update).to_be_visible()
    expect(page.get_by_label("区（县）")).to_have_count(0)
    check_page(page, "journey_nojs_form")

    page.get_by_label("求助").check()
    page.get_by_label("属于哪一类？").select_option("labour.wages")
    page.get_by_label("发生了什么？").fill("工地结束两个月了，工钱还没结。")
    page.get_by_label("市", exact=True).select_option(label="广州市")
    update.click()
    expect(page).to_have_url(re.compile(r"/grievances/#grievance-place$"))  # back where the worker was
    expect(page.get_by_label("区（县）")).to_be_in_viewport()
    expect(page.get_by_label("发生了什么？")).to_have_value("工地结束两个月了，工钱还没结。")  # kept
    expect(page.get_by_label("求助")).to_be_checked()
    check_page(page, "journey_nojs_city")

    page.get_by_label("区（县）").select_option(label="天河区")
    update.click()
    expect(page.get_by_label("镇（街道）")).to_be_in_viewport()
    check_page(page, "journey_nojs_district")

    page.get_by_label("镇（街道）").select_option(label="石牌街道")
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    page.get_by_role("button", name="提交诉求").click()
    expect(page.locator("h1")).to_have_text("我们已收到您的诉求")
    receipt_of(page)
    check_page(page, "journey_nojs_receipt")


def test_tapping_submit_again_while_it_is_sending_makes_one_request(page: Page):
    page.goto("/grievances/")
    fill_in_tianhe(page, "咨询", "labour.hours", "每周要上六天班，加班费怎么算？")
    check_page(page, "journey_double_form")

    # A slow network: each post is held until both taps have been made. (Tapped within a few
    # milliseconds, Chromium sometimes folds the two submissions into one, which would prove nothing.)
    held: list[Route] = []
    page.route(re.compile(r"/grievances/$"),
               lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    send = page.get_by_role("button", name="提交诉求")
    send.scroll_into_view_if_needed()
    box = send.bounding_box()
    for taps in (1, 2):
        # The mouse itself: a locator's click would wait for the pending navigation before tapping again.
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_until(page, lambda taps=taps: len(held) == taps, f"post {taps} never left the browser")
    # Both reach the server, in order; the browser shows the answer to the second tap.
    receipts = []
    for route in held:
        response = route.fetch()
        html = response.text()
        receipts.append(tuple(m.group(0) if m else None for m in (NUMBER.search(html), CODE.search(html))))
        with contextlib.suppress(PlaywrightError):  # the browser may have given up the first for the second
            route.fulfill(response=response)
    expect(page.locator("h1")).to_have_text("我们已收到您的诉求")
    number, code = receipt_of(page)
    check_page(page, "journey_double_receipt")
    assert receipts == [(number, code), (number, code)], receipts


def test_going_back_from_the_receipt_and_sending_again_makes_no_second_request(page: Page):
    page.goto("/g/440106006")
    page.get_by_label("建议").check()
    page.get_by_label("属于哪一类？").select_option("other.union")
    page.get_by_label("发生了什么？").fill("建议在石牌桥地铁站附近再设一个工会驿站。")
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    page.get_by_role("button", name="提交诉求").click()
    first = receipt_of(page)

    page.go_back()  # the worker is not sure it went through
    expect(page.locator("h1")).to_have_text("有事找工会")
    expect(page.get_by_label("发生了什么？")).to_have_value("建议在石牌桥地铁站附近再设一个工会驿站。")
    check_page(page, "journey_back_form")
    page.get_by_role("button", name="提交诉求").click()
    expect(page.locator("h1")).to_have_text("我们已收到您的诉求")
    check_page(page, "journey_back_receipt")
    assert receipt_of(page) == first
