"""Member benefits at a phone's width: the member's card with its rotating code, a cashier in a second browser
redeeming the member's voucher by typing that code, the member's wallet showing it used and the saving added,
an undo within five minutes, the public merchant directory (with and without JavaScript), the card in English,
and the administrators' totals. Every page a journey reaches goes through check_page.

The demo member (李建国, a delivery rider) has today's 夏季清凉券 (catering) and one 一元观影 voucher (cinema, two
per member) ready; the demo cashier works at the first demo merchant, 某某肠粉店, a catering merchant. Locators
rely on the demo's Chinese data and on the pages' structure rather than on UI wording, so the journeys hold
whatever language the catalogue gives the new pages.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import DEMO_PASSWORD, MEMBER_PHONE, check_page, pass_second_factor, texts

pytestmark = pytest.mark.browser

CASHIER_PHONE = "19900000301"  # staff of the first demo merchant
ADMIN_PHONE = "19900000009"
MEMBER_NAME, MASKED_NAME = "李建国", "李*国"
EATERY = "某某肠粉店（石牌店）"
SUMMER, CINEMA, FUEL = "夏季清凉券", "一元观影", "国庆加油券"
FIXED_OFFER = "满 30 减 5"  # the eatery's offer with no limit per member, so any journey can use it
CODE_STEP_S = 30  # the member code changes with each 30-second step (portal.services.members.CODE_STEP)
DIGITS = re.compile(r"^\d[\d ]{6,}\d$")
RECEIPT_URL = re.compile(r"/merchant/redemptions/\d+$")


def signed_in(context: BrowserContext, phone: str, target: str) -> Page:
    """A new page signed in as `phone` and sent on to `target`. The fields are found by name, so this signs in
    whatever the page's language."""
    page = context.new_page()
    page.goto(f"/login?next={target}")
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    pass_second_factor(page, phone)  # the administrator's code step
    expect(page).to_have_url(re.compile(re.escape(target) + r"$"))
    return page


def fen(text: str) -> int:
    """"¥1,234.50" → 123450."""
    return int(Decimal(re.sub(r"[^\d.]", "", text)) * 100)


def saved_fen(page: Page) -> int:
    return fen(page.locator(".member-saved-amount").inner_text())


def vouchers(page: Page, state: str, campaign: str):
    """The wallet's vouchers of `campaign`: "available" ones, or "done" (used or expired)."""
    return page.locator(f"li.voucher-{state}").filter(has_text=campaign)


def card_code(page: Page) -> str:
    digits = page.locator("#members-code .member-code-digits")
    expect(digits).to_have_text(DIGITS)
    return digits.inner_text().strip()


def read_card_at_counter(cashier: Page, code: str) -> None:
    """What the cashier does with the digits the member shows: type them and check the card."""
    cashier.goto("/merchant/")
    card_form = cashier.locator("form[data-card-form]")
    card_form.locator("input[name=code]").fill(code)
    card_form.locator("button[type=submit]").click()
    expect(cashier).to_have_url(re.compile(r"/merchant/checkout$"))
    member = cashier.locator(".member-check")
    expect(member.locator(".badge-open")).to_be_visible()  # the membership is valid
    expect(member.locator(".facts dd").first).to_have_text(MASKED_NAME)
    expect(cashier.locator("main")).not_to_contain_text(MEMBER_NAME)


# ------------------------------------------------------------------------------------------------ the card

def test_the_member_card_shows_a_qr_and_a_code_that_htmx_renews(new_context):
    member = signed_in(new_context(), MEMBER_PHONE, "/member/card")
    expect(member.locator("html")).to_have_attribute("lang", "zh-CN")
    card = member.locator("article.member-card")
    expect(card.locator(".member-card-name")).to_have_text(MASKED_NAME)
    expect(member.locator("main")).not_to_contain_text(MEMBER_NAME)
    expect(card.locator(".member-card-facts")).to_contain_text("********0123")  # GZ2024000123, masked
    qr = card.locator("#members-code svg.qr")
    expect(qr).to_be_visible()
    expect(qr).to_have_attribute("role", "img")
    expect(qr).to_have_attribute("aria-label", re.compile(r"\S"))
    box = qr.bounding_box()
    assert box and box["width"] >= 240 and box["height"] >= 240, f"the QR is too small to scan at a counter: {box}"
    code = card_code(member)
    digits = member.locator("#members-code .member-code-digits")
    expect(digits).to_have_attribute("role", "img")
    expect(digits).to_have_attribute("aria-label", re.compile(" ".join(code.replace(" ", ""))))
    check_page(member, "benefits_card")

    # From here on the page is never reloaded: what is new arrives through htmx. The block is fetched again
    # every 20 s and on the page's own "members-refresh" event (what the page sends itself when the phone is
    # unlocked); the code changes with each 30-second step, so ask for it again once a new step has begun.
    member.evaluate("() => { window.__samePage = true }")
    qr_before = qr.inner_html()
    wait_ms = (CODE_STEP_S - time.time() % CODE_STEP_S + 0.5) * 1000  # at most one step, the code's own period
    member.wait_for_timeout(wait_ms)
    with member.expect_response(lambda r: r.url.endswith("/member/card/code")
                                and r.request.headers.get("hx-request") == "true") as refresh:
        member.evaluate("() => htmx.trigger('#members-code', 'members-refresh')")
    assert refresh.value.status == 200
    expect(digits).not_to_have_text(code)
    expect(digits).to_have_text(DIGITS)
    assert qr.inner_html() != qr_before, "the QR did not change with the code"
    expect(card.locator(".member-card-name")).to_have_text(MASKED_NAME)
    assert member.evaluate("() => window.__samePage === true"), "the card page was reloaded"
    check_page(member, "benefits_card_refreshed")


def test_the_member_card_in_english(new_context):
    member = signed_in(new_context(locale="en-US"), MEMBER_PHONE, "/member/card")
    expect(member.locator("html")).to_have_attribute("lang", "en")
    expect(member).to_have_title(re.compile("My member card"))
    expect(member.locator("#members-code svg.qr")).to_have_attribute("aria-label", "Member QR code for the cashier "
                                                                                   "to scan")
    expect(member.locator("#members-code .member-code-digits")).to_have_attribute(
        "aria-label", re.compile(r"^Member code: \d( \d){6,}$"))
    expect(member.locator(".member-card-name")).to_have_text(MASKED_NAME)
    check_page(member, "benefits_card_en")


# ----------------------------------------------------------------------------------- voucher redeemed once

def test_a_cashier_redeems_the_member_s_voucher_by_typing_the_card_code(new_context):
    member = signed_in(new_context(), MEMBER_PHONE, "/member/wallet")
    expect(vouchers(member, "available", SUMMER)).to_have_count(1)  # today's cooling voucher
    expect(vouchers(member, "available", SUMMER).locator(".voucher-code")).to_be_visible()
    expect(vouchers(member, "done", FUEL)).to_have_count(1)  # expired unused
    used_before = vouchers(member, "done", SUMMER).count()  # yesterday's
    saved_before = saved_fen(member)
    assert saved_before > 0, "the demo member has saved nothing yet"
    check_page(member, "benefits_wallet")

    # One cooling voucher a day, and today's is claimed: its Claim button gives way to the reason. The cinema
    # campaign allows two per member, and the demo member has one.
    member.goto("/member/campaigns")
    summer = member.locator("li.campaign").filter(has_text=SUMMER)
    expect(summer.locator(".campaign-reason")).to_be_visible()
    expect(summer.locator("form.campaign-claim")).to_have_count(0)
    check_page(member, "benefits_campaigns")
    member.locator("li.campaign").filter(has_text=CINEMA).locator("form.campaign-claim button").click()
    expect(member).to_have_url(re.compile(r"/member/wallet$"))
    expect(member.get_by_role("status").filter(has_text=CINEMA)).to_be_visible()
    expect(vouchers(member, "available", CINEMA)).to_have_count(2)
    check_page(member, "benefits_wallet_claimed")

    member.goto("/member/card")
    code = card_code(member)

    # The cashier, on their own phone.
    cashier = signed_in(new_context(), CASHIER_PHONE, "/merchant/")
    expect(cashier.locator("main")).to_contain_text(EATERY)
    check_page(cashier, "benefits_counter")
    read_card_at_counter(cashier, code)
    form = cashier.locator("form.checkout-form")
    # Only what this catering merchant takes: the cooling voucher, not the cinema ones.
    expect(form.get_by_label(re.compile(CINEMA))).to_have_count(0)
    check_page(cashier, "benefits_checkout")
    form.get_by_label(re.compile(SUMMER)).check()
    form.locator("input[name=bill]").fill("50")
    form.locator("button.button-call").click()  # confirm, not "work out the amount"

    expect(cashier).to_have_url(RECEIPT_URL)
    saving = fen(cashier.locator(".saving-figure").inner_text())
    assert saving >= 199, f"the saving {saving} fen leaves out the ¥1.99 voucher"
    facts = cashier.locator(".receipt-facts")
    expect(facts).to_contain_text(SUMMER)
    expect(facts).to_contain_text(MASKED_NAME)
    expect(facts).to_contain_text("¥50.00")
    check_page(cashier, "benefits_receipt")

    # Back on the member's phone: the voucher is used and the saving is added.
    member.goto("/member/wallet")
    expect(vouchers(member, "available", SUMMER)).to_have_count(0)
    expect(vouchers(member, "done", SUMMER)).to_have_count(used_before + 1)
    assert saved_fen(member) == saved_before + saving
    latest = member.locator("ul.ticket-list > li.entry").first
    expect(latest).to_contain_text(EATERY)
    expect(latest).to_contain_text(SUMMER)
    check_page(member, "benefits_wallet_used")


def test_the_cashier_undoes_a_redemption_and_the_member_s_savings_stay_as_they_were(new_context):
    member = signed_in(new_context(), MEMBER_PHONE, "/member/wallet")
    saved_before = saved_fen(member)
    member.goto("/member/card")
    code = card_code(member)

    cashier = signed_in(new_context(), CASHIER_PHONE, "/merchant/")
    read_card_at_counter(cashier, code)
    form = cashier.locator("form.checkout-form")
    form.get_by_label(re.compile(FIXED_OFFER)).check()
    form.locator("#voucher-none").check()
    form.locator("input[name=bill]").fill("40")
    form.locator("button.button-call").click()
    expect(cashier).to_have_url(RECEIPT_URL)
    receipt_url = cashier.url
    expect(cashier.locator(".saving-figure")).to_have_text("¥5.00")
    undo = cashier.locator("form[action$='/undo'] button[type=submit]")
    expect(undo).to_be_visible()

    undo.click()
    expect(cashier).to_have_url(receipt_url)
    expect(cashier.locator("main .alert[role=status]")).to_be_visible()  # "Undone at …: nothing was redeemed."
    expect(cashier.locator(".receipt-total.receipt-undone")).to_be_visible()
    expect(cashier.locator("form[action$='/undo']")).to_have_count(0)  # once is enough
    check_page(cashier, "benefits_receipt_undone")
    cashier.goto("/merchant/")
    expect(cashier.locator("#recent-title + ul > li").first.locator("em.badge")).to_be_visible()  # marked undone

    member.goto("/member/wallet")
    assert saved_fen(member) == saved_before
    latest = member.locator("ul.ticket-list > li.entry").first
    expect(latest).to_have_class(re.compile(r"\bredemption-undone\b"))
    expect(latest).to_contain_text(FIXED_OFFER)
    check_page(member, "benefits_wallet_undone")


# -------------------------------------------------------------------------------------- merchant directory

def test_anyone_finds_a_partner_merchant_and_the_way_there(page: Page):
    page.goto("/merchants/")
    listed = page.locator("#merchants-results .merchant-list > li")
    expect(listed.filter(has_text=EATERY)).to_have_count(1)
    assert listed.count() >= 12
    check_page(page, "benefits_directory")

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true" and "category=fuel" in r.url):
        page.locator("input[name=category][value=fuel]").check()
    expect(page).to_have_url(re.compile(r"category=fuel"))
    expect(listed.filter(has_text="某某加油站")).to_have_count(1)
    expect(listed.filter(has_text=EATERY)).to_have_count(0)
    check_page(page, "benefits_directory_fuel")

    page.locator("input[name=category][value=catering]").check()
    expect(listed.filter(has_text=EATERY)).to_have_count(1)
    listed.filter(has_text=EATERY).get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(EATERY)
    expect(page.locator(".offer-list > li")).to_have_count(2)
    expect(page.locator(".offer-list")).to_contain_text(FIXED_OFFER)
    links = page.locator(".nav-links a")
    expect(links).to_have_count(3)
    expect(links.nth(0)).to_have_attribute("href", re.compile(r"^https://uri\.amap\.com/navigation\?to=113\.\d+%2C23\."))
    expect(links.nth(1)).to_have_attribute("href", re.compile(r"^https://api\.map\.baidu\.com/"))
    expect(links.nth(2)).to_have_attribute("href", re.compile(r"^https://apis\.map\.qq\.com/"))
    expect(page.locator("a[href^='tel:']")).to_be_visible()
    check_page(page, "benefits_merchant")


def test_the_directory_works_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/merchants/")
    expect(page.locator(".merchant-list > li").filter(has_text=EATERY)).to_have_count(1)
    page.locator("input[name=category][value=cinema]").check()
    page.locator("form.finder button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"category=cinema"))
    names = texts(page.locator(".merchant-list > li strong"))
    assert names and all("影" in name for name in names), names  # 某某影城, 某某电影院
    check_page(page, "benefits_directory_nojs")
    page.locator(".merchant-list > li a").first.click()
    expect(page.locator(".nav-links a")).to_have_count(3)
    check_page(page, "benefits_merchant_nojs")


# --------------------------------------------------------------------------------------------- the admins

def test_an_administrator_sees_the_totals_of_campaigns_and_merchants(new_context):
    admin = signed_in(new_context(), ADMIN_PHONE, "/benefits/admin/")
    campaigns = admin.locator("table.totals").first
    for name in (SUMMER, CINEMA, FUEL):
        expect(campaigns.locator("tbody th[scope=row]").filter(has_text=name)).to_have_count(1)
    expect(admin.locator("main")).to_contain_text(EATERY)
    expect(admin.locator("a[href$='/benefits/admin/totals.csv']")).to_be_visible()
    check_page(admin, "benefits_admin")
