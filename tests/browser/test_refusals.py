"""A refused step says why in the first screen, with focus on the reason, and keeps what was typed: staff on
a ticket's page, and a worker whose request the union accepted while the page was open (no JavaScript, so
nothing refreshes it)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import DEMO_PASSWORD, PHONE, check_page, receipt_of, sign_in

pytestmark = pytest.mark.browser
PROVINCE_STAFF = "19900000001"


def staff_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto("/login")
    sign_in(page, PROVINCE_STAFF, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    return page


def open_ticket(page: Page, text: str) -> None:
    """The province's inbox, searched for a demo request by its words."""
    page.goto("/staff/?status=all&q=" + text)
    page.locator("#staff-inbox").get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("44-")


def assert_in_first_screen(page: Page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def test_a_refused_reply_says_why_first_and_keeps_the_text(new_context):
    page = staff_page(new_context())
    open_ticket(page, "公司试用期不给交社保")  # accepted by the province, not yet answered
    reply = page.locator("#action-reply")
    reply.locator("textarea[name=note]").fill("   ")  # filled, for the browser; empty, for the union
    reply.get_by_role("button").click()
    summary = page.get_by_role("alert")
    expect(summary).to_have_text("请填写说明。")
    expect(summary).to_be_focused()
    assert_in_first_screen(page, summary)
    check_page(page, "refusal_staff_reply")
    expect(page.locator("#action-reply textarea[name=note]")).to_have_value("   ")


def test_a_worker_s_withdrawal_refused_after_acceptance_says_why_first(new_context):
    worker = new_context(java_script_enabled=False).new_page()
    worker.goto("/g/440106006")  # the place comes with the poster
    worker.get_by_label("咨询").check()
    worker.get_by_label("属于哪一类？").select_option("labour.hours")
    worker.get_by_label("发生了什么？").fill("想问一下夜班的加班费怎么算。")
    worker.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    worker.get_by_role("button", name="提交诉求").click()
    number, code = receipt_of(worker)
    worker.goto("/track/")
    worker.get_by_label("工单号").fill(number)
    worker.get_by_label("查询码").fill(code)
    worker.locator("main").get_by_role("button").click()
    expect(worker.locator("#withdraw-form")).to_be_visible()

    staff = staff_page(new_context())
    open_ticket(staff, number)
    staff.locator("#action-accept").get_by_role("button").click()
    expect(staff.get_by_role("status")).to_have_text("已完成。")

    worker.locator("#withdraw-form").get_by_role("button").click()  # the page still offers it
    summary = worker.get_by_role("alert")
    expect(summary).to_contain_text("当前状态下不能")
    expect(summary).to_be_focused()
    assert_in_first_screen(worker, summary)
    expect(worker.locator("#withdraw-form")).to_have_count(0)  # and now it is gone
    check_page(worker, "refusal_worker_withdraw")
