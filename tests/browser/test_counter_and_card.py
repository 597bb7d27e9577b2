"""The counter and the member card on one 360x640 screen (issue 14, items 3 and 8).

A cashier who types a code that cannot be taken sees why at once: the refusal is inside the first screen, above
the bottom navigation, has the focus and says what happened ("used on … at 12:25", "for cinemas only",
"expired on …"). A card that can be read opens a checkout that has already chosen what saves the member most on
the bill typed, shows bill, saving and amount to pay, and confirms. The member's card shows its QR, its typed code
and how long that code lives without scrolling and without the bottom navigation covering any of it.

The refused codes are the demo's own vouchers, read from the live server's database, plus one expired voucher
that the app's own `benefits.claim` makes there (a claim dated three days ago, so it is over today).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from portal.services.sla import SHANGHAI
from tests.browser.conftest import DEMO_PASSWORD, MEMBER_PHONE, check_page, pass_second_factor
from tests.live import REPO, server_time

pytestmark = pytest.mark.browser

CASHIER_PHONE = "19900000301"
SUMMER, CINEMA = "夏季清凉券", "一元观影"
# The eatery's offers on a bill of ¥80: 10 % off (at most ¥20, once a day per member) saves ¥8; ¥5 off from ¥30.
OFFERS = {"会员九折": 800, "满 30 减 5": 500}
BILL_FEN = 8_000
SUMMER_FEN = 199
DIGITS = re.compile(r"^\d[\d ]{6,}\d$")

# Run in a process of its own with the live server's environment: the app's services on the server's database.
VOUCHERS = """
import json
from datetime import timedelta
from sqlalchemy import select
from portal import clock, create_app
from portal.demo import SUMMER, CINEMA
from portal.extensions import db
from portal.models import Campaign, Voucher, VoucherStatus
from portal.services import benefits, members, users

app = create_app()
with app.app_context():
    member = members.of_user(users.find_user("%(phone)s"))
    summer = db.session.scalar(select(Campaign).where(Campaign.name == SUMMER))
    expired = benefits.claim(member, summer.id, clock.now() - timedelta(days=3))
    codes = {"expired": expired.code}
    for name, campaign, status in (("used", SUMMER, VoucherStatus.USED), ("cinema", CINEMA, VoucherStatus.AVAILABLE)):
        codes[name] = db.session.scalar(select(Voucher.code).join(Campaign).where(
            Campaign.name == campaign, Voucher.membership_id == member.id, Voucher.status == status)
            .order_by(Voucher.id).limit(1))
    print(json.dumps(codes))
"""


@pytest.fixture(scope="module")
def refused_codes(live_server, tmp_path_factory) -> dict[str, str]:
    """A used, another kind of merchant's and an expired voucher of the demo member, by their codes."""
    found = sorted(tmp_path_factory.getbasetemp().glob("live[0-9]*/portal.sqlite3"))
    assert len(found) == 1, f"the live server's database was not found: {found}"
    env = {**os.environ, "PORTAL_ENVIRONMENT": "development", "PORTAL_DATABASE_URL": f"sqlite:///{found[0]}",
           "PORTAL_SECRET_KEY": "x" * 64, "PORTAL_UPLOAD_DIR": str(found[0].parent / "uploads")}
    done = subprocess.run([sys.executable, "-c", VOUCHERS % {"phone": MEMBER_PHONE}], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(codes.values()), codes
    return codes


def signed_in(context: BrowserContext, phone: str, target: str) -> Page:
    page = context.new_page()
    page.goto(f"/login?next={target}")
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    pass_second_factor(page, phone)
    expect(page).to_have_url(re.compile(re.escape(target) + r"$"))
    return page


def nav_top(page: Page) -> float:
    box = page.locator("nav.bottom-nav").bounding_box()
    assert box, "no bottom navigation"
    return box["y"]


def assert_on_first_screen(page: Page, element: Locator, what: str) -> dict:
    """`element` lies wholly inside the 360x640 window, above the fixed bottom navigation, without scrolling."""
    assert page.evaluate("() => window.scrollY") == 0, f"the page scrolled to show {what}"
    box = element.bounding_box()
    assert box, f"{what} is not shown"
    top = nav_top(page)
    assert box["y"] >= 0 and box["x"] >= 0 and box["x"] + box["width"] <= 360, f"{what} is off screen: {box}"
    assert box["y"] + box["height"] < top, f"{what} ends at {box['y'] + box['height']:.0f} px, under the " \
                                           f"bottom navigation from {top:.0f} px"
    return box


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


# ------------------------------------------------------------------------------------------------ refusals

def test_a_refused_voucher_code_says_why_on_the_first_screen_and_has_the_focus(new_context, live_server,
                                                                               refused_codes):
    cashier = signed_in(new_context(), CASHIER_PHONE, "/merchant/")
    yesterday = (server_time(live_server).astimezone(SHANGHAI) - timedelta(days=1)).date()
    expired_day = (server_time(live_server).astimezone(SHANGHAI) - timedelta(days=3)).date()
    reasons = {  # the demo used yesterday's cooling voucher at 12:25; the cinema voucher is for cinemas
        "used": f"已于 {yesterday.isoformat()} 12:25 使用过",
        "cinema": "仅限影院",
        "expired": "过期",
    }
    for name, reason in reasons.items():
        form = cashier.locator("form[action$='/merchant/redeem']")
        form.locator("input[name=voucher_code]").fill(refused_codes[name])
        form.locator("input[name=bill]").fill("80")
        with cashier.expect_navigation():
            form.locator("button[type=submit]").click()
        alert = cashier.locator("main [role=alert]")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text(reason)
        if name == "expired":
            expect(alert).to_contain_text(re.compile(rf"{expired_day.isoformat()}|{expired_day + timedelta(days=1)}"))
        assert_on_first_screen(cashier, alert, f"the refusal of the {name} voucher")
        assert cashier.evaluate("() => document.activeElement.getAttribute('role')") == "alert", \
            f"the refusal of the {name} voucher does not have the focus"
        check_page(cashier, f"counter_refused_{name}")


def test_a_member_code_that_cannot_be_read_is_refused_at_the_top(new_context):
    cashier = signed_in(new_context(), CASHIER_PHONE, "/merchant/")
    card_form = cashier.locator("form[data-card-form]")
    # Membership 1 with the code 000000: no member's code now (one chance in 500,000).
    card_form.locator("input[name=code]").fill("1 000 000")
    with cashier.expect_navigation():
        card_form.locator("button[type=submit]").click()
    alert = cashier.locator("main [role=alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(re.compile(r"\S{4}"))
    assert_on_first_screen(cashier, alert, "the refused member code")
    assert cashier.evaluate("() => document.activeElement === document.querySelector('main [role=alert]')")
    check_page(cashier, "counter_refused_card")


# ------------------------------------------------------------------------------------------------ checkout

def test_the_checkout_chooses_what_saves_most_and_shows_the_amounts_before_confirming(new_context):
    member = signed_in(new_context(), MEMBER_PHONE, "/member/card")
    digits = member.locator("#members-code .member-code-digits")
    expect(digits).to_have_text(DIGITS)
    code = digits.inner_text().strip()

    cashier = signed_in(new_context(), CASHIER_PHONE, "/merchant/")
    card_form = cashier.locator("form[data-card-form]")
    card_form.locator("input[name=code]").fill(code)
    card_form.locator("input[name=bill]").fill(f"{BILL_FEN / 100:.2f}")
    card_form.locator("button[type=submit]").click()
    expect(cashier).to_have_url(re.compile(r"/merchant/checkout$"))

    form = cashier.locator("form.checkout-form")
    # ¥8 off (10 %) beats ¥5 off on ¥80, unless the member used it today (another journey may have); today's
    # cooling voucher, when it is still in the wallet, adds ¥1.99.
    offered = {title: fen for title, fen in OFFERS.items() if form.get_by_label(re.compile(title)).count() == 1}
    assert "满 30 减 5" in offered, "the offer without a limit is not offered"
    best = max(offered, key=offered.__getitem__)
    for title in offered:
        if title == best:
            expect(form.get_by_label(re.compile(title))).to_be_checked()
        else:
            expect(form.get_by_label(re.compile(title))).not_to_be_checked()
    summer = form.get_by_label(re.compile(SUMMER))
    with_voucher = summer.count() == 1
    if with_voucher:
        expect(summer).to_be_checked()
    else:
        expect(form.locator("#voucher-none")).to_be_checked()
    saving = offered[best] + (SUMMER_FEN if with_voucher else 0)
    summary = cashier.locator("#merchants-summary")
    expect(summary).to_be_visible()
    figures = [" ".join(t.split()) for t in summary.locator("dd").all_inner_texts()]
    assert figures == [yuan(BILL_FEN), "−" + yuan(saving), yuan(BILL_FEN - saving)], figures
    confirm = form.locator("button.button-call")
    summary_box, confirm_box = summary.bounding_box(), confirm.bounding_box()
    assert summary_box["y"] + summary_box["height"] <= confirm_box["y"], "the amounts come after the confirm button"
    check_page(cashier, "counter_checkout_best")

    confirm.click()
    expect(cashier).to_have_url(re.compile(r"/merchant/redemptions/\d+$"))
    expect(cashier.locator(".saving-figure")).to_have_text(yuan(saving))
    expect(cashier.locator(".receipt-facts")).to_contain_text(best)
    expect(cashier.locator(".receipt-facts")).to_contain_text(yuan(BILL_FEN))
    check_page(cashier, "counter_receipt_best")

    # Undone, so the offer's use today and any voucher are the member's again (other journeys use them).
    cashier.locator("form[action$='/undo'] button[type=submit]").click()
    expect(cashier.locator(".receipt-total.receipt-undone")).to_be_visible()


# -------------------------------------------------------------------------------------------------- card

@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_member_card_fits_one_phone_screen(new_context, locale):
    member = signed_in(new_context(locale=locale), MEMBER_PHONE, "/member/card")
    code = member.locator("#members-code")
    qr = code.locator("svg.qr")
    expect(qr).to_be_visible()
    expect(code.locator(".member-code-digits")).to_have_text(DIGITS)
    check_page(member, f"card_first_screen_{locale}")
    qr_box = assert_on_first_screen(member, qr, "the QR")
    assert qr_box["width"] >= 240 and qr_box["height"] >= 240, f"the QR is too small to scan: {qr_box}"
    assert_on_first_screen(member, code.locator(".member-code-digits"), "the typed code")
    assert_on_first_screen(member, code.locator(".member-code-until"), "how long the code lives")
    assert_on_first_screen(member, member.locator(".member-card-name"), "the member's name")
    assert_on_first_screen(member, member.locator(".member-card-valid"), "the membership's validity")


# ------------------------------------------------------------------------------------------ small things

STAFF_PHONE = "19900000003"  # 天河区总工会
MANAGER_PHONE = "19900000201"


def assert_tap_target(locator: Locator, what: str) -> None:
    """At least 44x44 px, the size a thumb hits (WCAG 2.5.5)."""
    box = locator.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, f"{what} is too small to tap: {box}"


def test_the_inbox_opens_on_to_accept_with_counted_tabs_and_rows_a_thumb_can_hit(new_context):
    staff = signed_in(new_context(), STAFF_PHONE, "/staff/")
    tabs = staff.locator("#staff-views a")
    expect(tabs).to_have_count(4)
    expect(tabs.nth(0)).to_have_attribute("aria-current", "page")
    labels = [" ".join(t.split()) for t in tabs.all_inner_texts()]
    names = [re.sub(r" \(\d+\)$", "", label) for label in labels]
    assert names == ["待受理", "本级在办", "已超期", "全部未办结"], labels
    counts = [int(re.search(r"\((\d+)\)$", label).group(1)) for label in labels]
    for n in range(4):
        assert_tap_target(tabs.nth(n), f"the tab {labels[n]}")
    rows = staff.locator("#staff-inbox .ticket-list a")
    assert rows.count() == min(counts[0], 20), (labels, rows.count())
    check_page(staff, "inbox_to_accept")

    tabs.nth(3).click()  # all open: a plain link, the whole page
    expect(staff).to_have_url(re.compile(r"/staff/\?view=open$"))
    expect(staff.locator("#staff-views a").nth(3)).to_have_attribute("aria-current", "page")
    assert rows.count() == min(counts[3], 20) and rows.count() > 0
    # The filters are folded away: the first case can be tapped without scrolling (its top 44 px on screen).
    first = rows.first.bounding_box()
    assert first and first["y"] + 44 <= nav_top(staff), f"the first case begins at {first} under the bottom bar"
    for n in range(min(rows.count(), 3)):
        assert_tap_target(rows.nth(n), "a case in the inbox")
    notices = staff.locator(".notices a")
    for n in range(min(notices.count(), 3)):
        assert_tap_target(notices.nth(n), "a case in the supervision list")
    check_page(staff, "inbox_all_open")


def test_the_hours_editor_offers_the_common_weeks_and_works_without_javascript(new_context):
    manager = new_context(java_script_enabled=False).new_page()
    manager.goto("/login?next=/stations/manage/")
    manager.locator("input[name=phone]").fill(MANAGER_PHONE)
    manager.locator("input[name=password]").fill(DEMO_PASSWORD)
    manager.locator("main form button[type=submit]").click()
    expect(manager).to_have_url(re.compile(r"/stations/manage/$"))
    manager.locator("main .ticket-list a").first.click()
    expect(manager).to_have_url(re.compile(r"/stations/\d+/edit$"))
    for link in manager.locator("main .tap-links a").all():
        assert_tap_target(link, f"the link {link.inner_text()}")
    expect(manager.get_by_label("按下面逐日填写的时间")).to_be_checked()
    check_page(manager, "station_hours_patterns")

    manager.get_by_label(re.compile("^周一至周五")).check()
    manager.get_by_label("开门时间", exact=True).select_option("08:00")
    manager.get_by_label("关门时间", exact=True).select_option("18:00")
    manager.locator("form[action$='/hours'] button[type=submit]").click()
    expect(manager.locator("main [role=status]").first).to_be_visible()
    for day in ("mon", "fri"):
        expect(manager.locator(f"input[name={day}]")).to_have_value("08:00-18:00")
    for day in ("sat", "sun"):
        expect(manager.locator(f"input[name={day}]")).to_have_value("")
    check_page(manager, "station_hours_saved")
