"""Text messages on the worker's phone (issue 15), at 360x640, through the real background worker: `flask worker`
runs beside gunicorn (conftest `live_server`) and delivers with the development provider, which keeps what would
have been sent on the administrators' outbox page. The journeys read the messages there, as a worker reads their
phone: the code to type, the answer's link (opened in a browser that has nothing but the link), the stop link,
the ticket number sent again. Every page goes through check_page."""

from __future__ import annotations

import re
import time
from itertools import count

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DEMO_PASSWORD,
    PHONE,
    _watch,
    check_page,
    fill_in_tianhe,
    receipt_of,
    sign_in,
    take_staff_steps,
    texts,
)

pytestmark = pytest.mark.browser

ADMIN, PROVINCE = "19900000009", "19900000001"
DESCRIPTION = "公司拖欠我们两个月工资，一共 9000 元。"
EMPLOYER = "广州宏达建筑劳务有限公司"
DELIVERY_TIMEOUT_S = 20  # the worker polls every second; a message not on the outbox page by then was not sent
LINK = re.compile(r"http://127\.0\.0\.1:\d+/m/[A-Za-z0-9_-]+(?:/stop)?")
_numbers = count(1)


def fresh_number() -> str:
    """A mobile number no other journey of the session uses: each number has its own daily cap and code limit."""
    return f"1380013{next(_numbers):04d}"


# ------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server: str):
    """One signed-in page per account for the whole module (each sign-in spends one of the account's codes)."""
    pages: dict[str, Page] = {}

    def page_of(phone: str) -> Page:
        if phone not in pages:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server)
            context.set_default_timeout(10_000)
            context.on("page", _watch)
            page = context.new_page()
            page.goto("/login")
            sign_in(page, phone, DEMO_PASSWORD)
            expect(page).not_to_have_url(re.compile(r"/login"))
            pages[phone] = page
        return pages[phone]

    yield page_of
    for page in pages.values():
        page.context.close()


# -------------------------------------------------------------------------------------------- helpers

def assert_in_first_screen(page: Page, locator) -> None:
    """Seen on arrival, without scrolling: the box lies within 0…640 of the window and above the fixed bottom bar.
    Measured through the DevTools protocol, not page scripts, so it holds with JavaScript off too."""
    bar = page.locator(".bottom-nav")
    bottom = bar.bounding_box()["y"] if bar.count() else PHONE["height"]
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["y"] >= 0 and box["y"] + box["height"] <= bottom <= 640, (box, bottom)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box


def outbox_message(admin: Page, phone: str, pattern: str, name: str) -> str:
    """The newest message to `phone` matching `pattern`, as the administrators' outbox shows it. The worker process
    delivers it on its own time, so the page is read again until it is there (bounded)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while True:
        admin.goto("/admin/messages")
        entries = admin.locator("#outbox-development li.entry").filter(
            has=admin.locator("strong", has_text=re.compile(f"^{phone}$")))
        found = [text for text in texts(entries.locator(".statement")) if re.search(pattern, text)]
        if found:
            check_page(admin, name)
            return found[0]
        assert time.monotonic() < deadline, (f"no message {pattern!r} to {phone} on the outbox page within "
                                             f"{DELIVERY_TIMEOUT_S} s (is `flask worker` running? see worker.log)")
        admin.wait_for_timeout(250)


def messages_to(admin: Page, phone: str) -> list[str]:
    admin.goto("/admin/messages")
    return texts(admin.locator("#outbox-development li.entry").filter(
        has=admin.locator("strong", has_text=re.compile(f"^{phone}$"))).locator(".statement"))


def send_grievance(page: Page, employer: str = "") -> str:
    """A wage claim from 天河区, sent; the receipt's ticket number."""
    page.goto("/grievances/")
    fill_in_tianhe(page, "申诉投诉", "labour.wages", DESCRIPTION)
    if employer:
        page.locator("details:has(input[name=employer]) > summary").click()
        page.locator("input[name=employer]").fill(employer)
    page.get_by_role("button", name="提交诉求").click()
    number, _code = receipt_of(page)
    return number


def type_the_code(page: Page, admin: Page, phone: str, name: str, pattern: str = r"您的验证码为 (\d{6})，") -> None:
    """On the code page: the field focused and in the first screen; the code read from the outbox, typed, sent."""
    expect(page).to_have_url(re.compile(r"/track/[^/]+/texts#code$"))
    code_field = page.locator("#code-form input[name=code]")
    expect(code_field).to_be_visible()
    assert_in_first_screen(page, code_field)
    expect(code_field).to_be_focused()  # document.activeElement
    check_page(page, f"{name}_code")
    code = re.search(pattern, outbox_message(admin, phone, pattern, f"{name}_outbox_code")).group(1)
    code_field.fill(code)
    page.locator("#code-form button[type=submit]").click()


def opt_in_on_receipt(page: Page, admin: Page, phone: str, name: str) -> str:
    """A grievance sent, texts asked for on its receipt with the code typed: the request's page says they are on."""
    number = send_grievance(page)
    page.locator("#receipt-texts").get_by_label("接收短信的手机号码").fill(phone)
    page.locator("#receipt-texts").get_by_role("button", name="发送验证码").click()
    type_the_code(page, admin, phone, name)
    expect(page).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    expect(page.locator("#tracking-texts")).to_contain_text(f"短信通知已开通，发送到 {phone[:3]}****{phone[-4:]}。")
    return number


def staff_act(staff: Page, number: str, steps: list[tuple[str, dict[str, str]]], name: str) -> None:
    """The province's staff find the case by its number and take `steps` (action, {field selector: value})."""
    take_staff_steps(staff, number, steps)
    check_page(staff, f"texts_staff_{name}")


def links_in(message: str) -> tuple[str, str]:
    """(the link, the stop link) a news message carries."""
    link, stop = LINK.findall(message)
    assert stop == link + "/stop", message
    return link, stop


# ------------------------------------------------------------------------------------------- journeys

def test_texts_asked_for_on_the_receipt_bring_the_answer_which_is_rated_in_one_tap(new_context, signed_in,
                                                                                   live_server):
    admin, phone = signed_in(ADMIN), fresh_number()
    worker = new_context().new_page()
    number = send_grievance(worker, employer=EMPLOYER)
    form = worker.locator("#receipt-texts")
    expect(form.get_by_role("heading")).to_have_text("有进展时短信通知我")
    check_page(worker, "texts_receipt")
    form.get_by_label("接收短信的手机号码").fill(phone)
    form.get_by_role("button", name="发送验证码").click()

    expect(worker.locator("#code-form")).to_contain_text(f"我们已向 {phone[:3]}****{phone[-4:]} 发送 6 位验证码")
    type_the_code(worker, admin, phone, "texts_receipt")
    expect(worker).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    notice, line = worker.get_by_role("status"), worker.locator("#tracking-texts")
    expect(notice).to_have_text("短信通知已开通：有进展时我们会告诉您。")
    expect(line).to_contain_text("短信通知已开通")
    check_page(worker, "texts_on")
    assert_in_first_screen(worker, notice)  # the line itself is under the timeline: the first screen is the status's

    # The union accepts and answers through its own pages; the worker's phone gets the news.
    answer = "已约谈用人单位，承诺本周五前全额支付拖欠工资。"
    staff_act(signed_in(PROVINCE), number, [("accept", {}), ("reply", {"textarea[name=note]": answer})], "answered")
    accepted = outbox_message(admin, phone, "已受理", "texts_outbox_accepted")
    assert number in accepted
    message = outbox_message(admin, phone, "已答复", "texts_outbox_answered")
    assert message.startswith("【职工服务门户】您的诉求 " + number + " 已答复"), message
    link, _stop = links_in(message)
    assert link.startswith(live_server + "/m/"), (link, live_server)
    for secret in (DESCRIPTION, EMPLOYER, "工资", "宏达", answer):
        assert secret not in message, f"the message gives away {secret!r}: {message}"

    # The link alone (a browser with no session, as a phone's message app opens it) opens the one-tap rating.
    phone_browser = new_context().new_page()
    phone_browser.goto(link)
    expect(phone_browser).to_have_url(re.compile(re.escape(f"/track/{number}/rating") + "$"))
    expect(phone_browser.locator("h1")).to_contain_text(number)
    expect(phone_browser.locator("blockquote.statement")).to_have_text(answer)
    buttons = phone_browser.locator("main form.rating-buttons button[type=submit]")
    expect(buttons).to_have_text(["满意", "基本满意", "不满意"])
    check_page(phone_browser, "texts_rating")
    for n in range(3):
        assert_in_first_screen(phone_browser, buttons.nth(n))

    phone_browser.get_by_role("button", name="满意", exact=True).click()
    expect(phone_browser).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    thanks = phone_browser.get_by_role("status")
    expect(thanks).to_have_text("感谢您的评价。")
    status = phone_browser.locator("#tracking-timeline .facts dd").first
    expect(status).to_have_text("已办结")
    check_page(phone_browser, "texts_rated")
    assert_in_first_screen(phone_browser, thanks)
    assert_in_first_screen(phone_browser, status)


def test_the_stop_link_of_a_message_stops_them_in_one_tap_and_they_can_be_turned_on_again(new_context, signed_in):
    admin, phone = signed_in(ADMIN), fresh_number()
    number = opt_in_on_receipt(new_context().new_page(), admin, phone, "texts_stop")
    staff_act(signed_in(PROVINCE), number, [("accept", {})], "accepted")
    _link, stop = links_in(outbox_message(admin, phone, "已受理", "texts_stop_outbox"))

    page = new_context().new_page()  # the message app's browser: the link is all it has
    page.goto(stop)
    expect(page.locator("h1")).to_have_text("退订短信")
    expect(page.locator("main")).to_contain_text(f"发送到 {phone[:3]}****{phone[-4:]}")
    button = page.locator("main").get_by_role("button")
    expect(button).to_have_count(1)
    expect(button).to_have_text("退订短信")
    check_page(page, "texts_stop_page")
    assert_in_first_screen(page, button)

    button.click()
    done = page.get_by_role("status")
    expect(done).to_have_text(f"诉求 {number} 不再发送短信，您的号码已删除。")
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    check_page(page, "texts_stopped")
    assert_in_first_screen(page, done)
    expect(page.get_by_role("status")).to_be_focused()

    page.get_by_role("link", name="查看诉求").click()
    expect(page.locator("#tracking-texts")).to_have_text("有进展时短信通知我")
    page.locator("#tracking-texts").get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(f"/track/{number}/texts") + "$"))
    expect(page.locator("#texts-on")).to_have_count(0)
    field = page.get_by_label("接收短信的手机号码")
    expect(field).to_have_value("")
    expect(page.locator("#texts-ask").get_by_role("button")).to_have_text("发送验证码")
    expect(field).to_be_focused()
    check_page(page, "texts_again")
    assert_in_first_screen(page, field)


def test_lost_number_answers_the_same_for_a_known_and_an_unknown_number_and_texts_only_the_known(new_context,
                                                                                                  signed_in):
    admin, known, unknown = signed_in(ADMIN), fresh_number(), fresh_number()
    worker = new_context().new_page()
    worker.goto("/grievances/")  # a request that left its number for a call back
    fill_in_tianhe(worker, "申诉投诉", "labour.wages", DESCRIPTION)
    worker.locator("details:has(input[name=contact_phone]) > summary").click()
    worker.locator("input[name=anonymous]").uncheck()
    worker.locator("input[name=contact_phone]").fill(known)
    worker.get_by_role("button", name="提交诉求").click()
    number, _code = receipt_of(worker)

    answers = []
    for phone, name in ((unknown, "unknown"), (known, "known")):  # the unknown first: see below
        page = new_context().new_page()
        page.goto("/track/lost")
        field = page.get_by_label("您留下的手机号码")
        expect(field).to_be_focused()
        if name == "unknown":
            check_page(page, "texts_lost")
        assert_in_first_screen(page, field)
        field.fill(phone)
        page.get_by_role("button", name="发送到我的手机").click()
        answer = page.get_by_role("status")
        expect(answer).to_contain_text("如果您的诉求留有这个号码")
        expect(page.get_by_role("status")).to_be_focused()
        check_page(page, f"texts_lost_{name}")
        assert_in_first_screen(page, answer)
        answers.append(" ".join(answer.inner_text().split()))
    assert answers[0] == answers[1], answers

    message = outbox_message(admin, known, "诉求编号为", "texts_lost_outbox")
    assert number in message and LINK.search(message), message
    # The worker delivers in the order messages were queued: had the unknown number's request queued anything,
    # it would be on the page before the known one's.
    assert messages_to(admin, unknown) == []


def test_english_texts_the_code_in_english(new_context, signed_in):
    admin, phone = signed_in(ADMIN), fresh_number()
    worker = new_context().new_page()
    number = send_grievance(worker)
    worker.goto(f"/track/{number}/texts?lang=en")  # the language is kept in a cookie from here on
    expect(worker.locator("h1")).to_have_text(f"Text messages about request {number}")
    field = worker.get_by_label("Mobile number for text messages")
    expect(field).to_be_focused()
    check_page(worker, "texts_en")
    assert_in_first_screen(worker, field)
    field.fill(phone)
    worker.get_by_role("button", name="Send me a code").click()
    type_the_code(worker, admin, phone, "texts_en", pattern=r"Your Worker Service Portal code is (\d{6})\.")
    expect(worker.get_by_role("status")).to_have_text("Text messages are on: we will tell you when there is news.")
    expect(worker.locator("#tracking-texts")).to_contain_text("Text messages on, to")
    check_page(worker, "texts_en_on")
    assert all("验证码" not in text for text in messages_to(admin, phone))


def test_without_javascript_texts_are_asked_for_and_confirmed(new_context, signed_in):
    admin, phone = signed_in(ADMIN), fresh_number()
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/g/440106006")  # the poster's place is chosen already: no picker to update
    page.get_by_label("申诉投诉").check()
    page.get_by_label("属于哪一类？").select_option("labour.wages")
    page.get_by_label("发生了什么？").fill(DESCRIPTION)
    page.get_by_label("我同意工会使用以上信息办理我的诉求。").check()
    page.get_by_role("button", name="提交诉求").click()
    number, _code = receipt_of(page)
    check_page(page, "texts_nojs_receipt")

    page.locator("#receipt-texts").get_by_label("接收短信的手机号码").fill(phone)
    page.locator("#receipt-texts").get_by_role("button", name="发送验证码").click()
    type_the_code(page, admin, phone, "texts_nojs")
    expect(page).to_have_url(re.compile(re.escape(f"/track/{number}") + "$"))
    expect(page.get_by_role("status")).to_have_text("短信通知已开通：有进展时我们会告诉您。")
    expect(page.locator("#tracking-texts")).to_contain_text("短信通知已开通")
    check_page(page, "texts_nojs_on")
    assert_in_first_screen(page, page.get_by_role("status"))
