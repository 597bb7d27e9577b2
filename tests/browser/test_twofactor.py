"""The second factor at 360x640: an administrator resets a staff member's second factor; the staff member sets
it up again at the next sign-in with a code the test computes (pyotp), signs out, signs in with a code, then with
a recovery code, which is refused the second time. The code field is focused and in the first screen; a refusal
is announced and focused; every page is axe-clean."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DEMO_PASSWORD,
    PHONE,
    check_page,
    enter_code,
    next_code,
    set_up_anew,
    sign_in,
)

pytestmark = pytest.mark.browser

ADMIN = "19900000009"
STAFF = "19900000002"  # 广州市总工会: set up anew here; later sign-ins use the new key (set_up_anew)


def in_first_screen(page: Page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def code_of_no_step(secret: str) -> str:
    """Six digits that are the key's code at no step near now."""
    totp, now = pyotp.TOTP(secret), time.time()
    near = {totp.at(now + 30 * steps) for steps in range(-3, 4)}
    return next(code for code in (f"{n:06d}" for n in range(1000000)) if code not in near)


def sign_out(page: Page) -> None:
    page.goto("/account")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/$"))


def password_step(page: Page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()


def test_a_staff_member_sets_up_the_second_factor_and_signs_in_with_a_code_then_a_recovery_code(page: Page):
    # The administrator resets the staff member's second factor (a lost phone).
    page.goto("/login")
    sign_in(page, ADMIN, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    page.goto("/account")
    page.get_by_role("link", name="重置他人的第二重验证").click()
    expect(page.locator("h1")).to_have_text("重置第二重验证")
    check_page(page, "twofactor_admin_reset")
    page.get_by_label("该账户的手机号码").fill(STAFF)
    page.get_by_role("button", name="重置第二重验证").click()
    expect(page.get_by_role("status")).to_contain_text("已完成")
    expect(page.locator("#second-factor-resets li").first).to_contain_text("199****0002")
    check_page(page, "twofactor_admin_reset_done")
    sign_out(page)

    # The first sign-in after it: the password, then setting up the authenticator app.
    password_step(page, STAFF)
    expect(page).to_have_url(re.compile(r"/login/enrol$"))
    expect(page.locator("h1")).to_have_text("设置第二重验证")
    expect(page.get_by_role("img", name="用身份验证器应用扫描的二维码")).to_be_visible()
    link = page.get_by_role("link", name="添加到身份验证器应用")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "").replace("\n", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    uri = pyotp.parse_uri(link.get_attribute("href"))
    assert uri.secret == secret and uri.issuer == "职工服务门户" and uri.name == "199****0002"
    check_page(page, "twofactor_enrol")
    set_up_anew(STAFF, secret)
    page.get_by_label("应用显示的验证码").fill(next_code(STAFF))
    page.get_by_role("button", name="确认并登录").click()
    expect(page.locator("h1")).to_have_text("保存您的恢复码")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(set(codes)) == 10 and all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes), codes
    check_page(page, "twofactor_recovery_codes")
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    sign_out(page)

    # Signing in with a code: the field has focus, in the first screen; a wrong code is announced and focused.
    password_step(page, STAFF)
    expect(page).to_have_url(re.compile(r"/login/code$"))
    field = page.get_by_label("验证码")
    expect(field).to_be_focused()
    in_first_screen(page, field)
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    check_page(page, "twofactor_code")
    field.fill(code_of_no_step(secret))
    page.locator("main").get_by_role("button", name="登录").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("验证码不正确")
    expect(alert).to_be_focused()
    in_first_screen(page, alert)
    expect(page.get_by_label("验证码")).to_have_attribute("aria-invalid", "true")
    check_page(page, "twofactor_code_wrong")
    enter_code(page, STAFF)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    sign_out(page)

    # A recovery code signs in once …
    password_step(page, STAFF)
    page.get_by_role("link", name="手机不在身边？使用恢复码").click()
    recovery = page.get_by_label("恢复码")
    expect(recovery).to_be_focused()
    in_first_screen(page, recovery)
    check_page(page, "twofactor_recovery")
    recovery.fill(codes[0])
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/account/second-factor$"))
    expect(page.get_by_role("status").first).to_contain_text("剩余恢复码：9")
    expect(page.locator(".facts")).to_contain_text("9")
    check_page(page, "twofactor_signed_in_by_recovery_code")
    sign_out(page)

    # … and is refused the second time, which is said first and focused, and no session begins.
    password_step(page, STAFF)
    page.get_by_role("link", name="手机不在身边？使用恢复码").click()
    page.get_by_label("恢复码").fill(codes[0])
    page.locator("main").get_by_role("button", name="登录").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("恢复码不正确或已经用过")
    expect(alert).to_be_focused()
    in_first_screen(page, alert)
    check_page(page, "twofactor_recovery_refused")
    page.goto("/staff/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
