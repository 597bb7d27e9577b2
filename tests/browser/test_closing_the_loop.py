"""Closing the loop on the worker's phone (360x640): the union answers with a promise ("paid by …"); the worker
reads the answer and the promised date on the first screen, rates it satisfied and sees the case stay open until
then, opens what they sent, writes that the promise was not kept (the case reopens once), and after the case
closed again writes once more, which starts a linked new request they land on. The heading never breaks
inside the ticket number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    DEMO_PASSWORD,
    NUMBER,
    check_page,
    fill_in_tianhe,
    receipt_of,
    sign_in,
    take_staff_steps,
)

pytestmark = pytest.mark.browser

PROVINCE = "19900000001"
DESCRIPTION = "公司拖欠我两个月工资，共 9000 元。"


def first_screen_bottom(page: Page) -> float:
    """Where the first screen ends for the eye: the top of the fixed bottom bar, or the window's bottom."""
    return page.evaluate("() => { const bar = document.querySelector('.bottom-nav');"
                         " return bar ? bar.getBoundingClientRect().top : innerHeight; }")


def assert_in_first_screen(page: Page, locator) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= first_screen_bottom(page) <= 640, box


def one_line(page: Page, selector: str) -> bool:
    """Whether the element's text sits on a single line (an inline element broken across lines has several boxes)."""
    return page.evaluate(f"() => document.querySelector({selector!r}).getClientRects().length") == 1


def staff_act(context: BrowserContext, number: str, steps: list[tuple[str, dict]], name: str) -> None:
    """The province's staff find the case by its number and take `steps` (action, {field selector: value})."""
    page = context.new_page()
    page.goto("/login")
    sign_in(page, PROVINCE, DEMO_PASSWORD)
    take_staff_steps(page, number, steps)
    if any("#promised-by" in fields for _, fields in steps):
        expect(page.locator("#staff-promise")).to_contain_text("未到期")
    check_page(page, f"loop_staff_{name}")
    page.close()


def test_a_promise_keeps_the_case_open_and_writing_again_reopens_it_then_starts_a_linked_request(new_context):
    worker = new_context().new_page()
    worker.goto("/grievances/")
    fill_in_tianhe(worker, "申诉投诉", "labour.wages", DESCRIPTION)
    worker.get_by_role("button", name="提交诉求").click()
    number, _code = receipt_of(worker)
    worker.get_by_role("link", name="查看办理进度").click()
    expect(worker).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))

    # The union answers with a promise two days ahead (the live server keeps the real clock).
    promised = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)
    promised_zh = f"{promised.year}年{promised.month}月{promised.day}日"
    answer = f"已约谈用人单位，承诺于{promised_zh}前支付全部拖欠工资。"
    staff = new_context()
    staff_act(staff, number, [("accept", {}), ("reply", {"textarea[name=note]": answer,
                                                          "#promised-by": promised.isoformat()})], "promised")

    worker.reload()
    timeline = worker.locator("#tracking-timeline")
    expect(timeline.locator(".facts dd").first).to_have_text("已答复")
    reply = timeline.locator(".timeline blockquote").first
    expect(reply).to_have_text(answer)
    promise = worker.locator("#tracking-promise")
    expect(promise).to_contain_text(promised_zh)
    expect(worker.locator("#tracking-promise-hint")).to_contain_text("在此之前您的诉求保持办理中")
    check_page(worker, "loop_track_promised")
    for what in (worker.locator("h1"), timeline.locator(".facts dd").first, promise, reply):
        assert_in_first_screen(worker, what)
    assert one_line(worker, "h1 .ticket-number")

    rating = worker.locator("#rating-form")
    expect(rating).to_contain_text(f"如您满意，您的诉求将保留至{promised_zh}")
    rating.get_by_label("满意", exact=True).check()
    rating.get_by_role("button", name="提交评价").click()
    notice = worker.get_by_role("status")
    expect(notice).to_have_text(f"感谢您的评价。您的诉求将保留至{promised_zh}，以防承诺未兑现。")
    expect(timeline.locator(".facts dd").first).to_have_text("等待兑现承诺")
    expect(worker.locator("#rating-form")).to_have_count(0)
    check_page(worker, "loop_track_awaiting")
    for what in (notice, timeline.locator(".facts dd").first, promise):
        assert_in_first_screen(worker, what)

    # What the worker sent, folded below the answer; opened from the keyboard, it keeps the focus.
    sent = worker.locator("#tracking-sent")
    summary = sent.locator("summary")
    expect(sent.locator(".statement")).to_be_hidden()
    summary.focus()
    worker.keyboard.press("Enter")
    expect(sent).to_have_attribute("open", "")
    expect(sent.locator(".statement")).to_have_text(DESCRIPTION)
    expect(sent).to_contain_text("追索劳动报酬")
    assert worker.evaluate("() => document.activeElement.matches('#tracking-sent > summary')")
    # The timeline's refresh every 5 s leaves it open.
    worker.evaluate("() => { document.getElementById('tracking-timeline').dataset.beforeRefresh = '' }")
    expect(worker.locator("#tracking-timeline[data-before-refresh]")).to_have_count(0, timeout=10_000)
    expect(sent).to_have_attribute("open", "")
    check_page(worker, "loop_track_sent_open")

    # The promise was not kept: writing says beforehand that it reopens the case, and does.
    message = worker.locator("#message-form-reopens")
    expect(message.get_by_role("heading")).to_have_text("问题仍未解决？请告诉我们")
    expect(message).to_contain_text("提交后，您的诉求将重新办理。")
    message.locator("textarea[name=text]").fill("老板说这个月也发不了。")
    message.get_by_role("button", name="发送").click()
    expect(notice).to_have_text("您补充的信息已提交，您的诉求将重新办理。")
    expect(timeline.locator(".facts dd").first).to_have_text("重新办理中")
    expect(worker.locator("#tracking-promise")).to_have_count(0)
    check_page(worker, "loop_track_reopened")

    # Answered again without a promise and rated satisfied: closed. Writing once more starts a new request.
    staff_act(staff, number, [("accept", {}), ("reply", {"textarea[name=note]": "已督促用人单位本周内发放。"})],
              "replied_again")
    worker.reload()
    worker.locator("#rating-form").get_by_label("满意", exact=True).check()
    worker.locator("#rating-form").get_by_role("button", name="提交评价").click()
    expect(timeline.locator(".facts dd").first).to_have_text("已办结")
    message = worker.locator("#message-form-continues")
    expect(message).to_contain_text("提交后将作为与此关联的新诉求办理，查询码不变。")
    message.locator("textarea[name=text]").fill("工资还是没有到账。")
    message.get_by_role("button", name="发送").click()

    expect(worker).not_to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    new_number = NUMBER.search(worker.url).group(0)
    expect(notice).to_have_text(f"您写的内容已作为新诉求提交，工单号 {new_number}。查询码不变。")
    expect(worker.locator("h1")).to_contain_text(new_number)
    expect(timeline.locator(".facts dd").first).to_have_text("已提交")
    expect(timeline.get_by_role("link", name=number)).to_have_attribute("href", f"/track/{number}")
    check_page(worker, "loop_track_new_request")
    for what in (notice, worker.locator("h1"), timeline.locator(".facts dd").first):
        assert_in_first_screen(worker, what)

    # In English the heading is longer: it wraps between words, never inside the number.
    worker.goto(f"/track/{new_number}?lang=en")
    expect(worker.locator("h1")).to_have_text(f"Request {new_number}")
    assert one_line(worker, "h1 .ticket-number")
    h1 = worker.locator("h1").bounding_box()
    assert h1["x"] >= 0 and h1["x"] + h1["width"] <= 360
    check_page(worker, "loop_track_new_request_en")
