"""The contact ledger at a phone's width: a hotline call turned into a ticket whose code is read out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, sign_in

pytestmark = pytest.mark.browser


def test_district_staff_log_a_hotline_call_that_becomes_a_ticket(page: Page):
    page.goto("/login")
    sign_in(page, "19900000003", "Demo-Portal-2026")
    page.get_by_role("link", name="登记来电来访来信").click()
    expect(page.locator("h1")).to_have_text("来电来访登记")
    check_page(page, "ledger")
    page.get_by_label("12351 热线来电").check()
    page.get_by_label("申诉投诉").check()
    page.get_by_label("属于哪一类？").select_option("labour.wages")
    page.get_by_label("职工反映的内容").fill("来电反映：某工地拖欠 8 名工人两个月工资。")
    page.get_by_label("需要办理：生成工单").check()
    page.get_by_label("市", exact=True).select_option(label="广州市")
    page.get_by_label("区（县）").select_option(label="天河区")
    page.get_by_label("镇（街道）").select_option(label="石牌街道")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("h1")).to_have_text("已登记")
    body = page.locator("main").inner_text()
    assert re.search(r"44-\d{8}-\d{4}", body) and re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", body)
    check_page(page, "ledger_done")
    page.get_by_role("link", name="继续登记").click()
    expect(page.locator("main")).to_contain_text("来电反映：某工地拖欠 8 名工人两个月工资。")
