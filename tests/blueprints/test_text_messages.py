"""Text messages through HTTP, as the worker meets them: the receipt's "text me" form, the code page, the links in a
message (tracking, rating, stop), "send my number again", the administrators' outbox, and what staff never see."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import ConfigurationError, create_app
from portal.extensions import db
from portal.models import MessageState, OutboxMessage, Rating, Role, Status, Subscription, Ticket
from portal.services import tickets
from portal.services.messages import links, outbox, phones
from portal.services.messages.providers import PermanentFailure
from portal.services.messages.providers.development import DevelopmentSms
from tests.conftest import config_for, csrf_token, grievance_form, login
from tests.factories import NOW, opted_in, sent_code, staff_of, submit

PHONE = "13912345678"


def _form_csrf(html: str, action: str) -> str:
    form = re.search(rf'<form[^>]+action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S).group(1)
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', form).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def _sent(client) -> tuple[str, str]:
    """Send the grievance form; (ticket number, receipt page)."""
    response = client.post("/grievances/", data=grievance_form(client))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    number = re.search(r'id="receipt-number"><dt>[^<]*</dt><dd class="code">([^<]+)</dd>', html).group(1)
    return number, html


def _ask(client, number: str, phone: str = PHONE, page: str | None = None):
    html = page or client.get(f"/track/{number}/texts").get_data(as_text=True)
    return client.post(f"/track/{number}/texts", data={"phone": phone,
                                                       "csrf_token": _form_csrf(html, f"/track/{number}/texts")})


def _confirm(client, number: str, code: str):
    html = client.get(f"/track/{number}/texts").get_data(as_text=True)
    return client.post(f"/track/{number}/texts/confirm",
                       data={"code": code, "csrf_token": _form_csrf(html, f"/track/{number}/texts/confirm")})


def _code(app, phone: str = PHONE) -> str:
    with app.app_context():
        code = sent_code(phone)
        db.session.remove()
    return code


# ------------------------------------------------------------------------------------------ opting in

def test_from_the_receipt_a_worker_turns_texts_on_with_the_code(app, client):
    number, receipt = _sent(client)
    assert 'id="receipt-texts"' in receipt and 'type="tel"' in receipt
    response = _ask(client, number, "139-1234-5678", receipt)
    assert response.status_code == 303 and response.headers["Location"] == f"/track/{number}/texts#code"
    page = client.get(f"/track/{number}/texts").get_data(as_text=True)
    assert "139****5678" in page and 'autocomplete="one-time-code"' in page and PHONE not in page
    response = _confirm(client, number, _code(app))
    assert response.status_code == 303 and response.headers["Location"] == f"/track/{number}"
    detail = client.get(f"/track/{number}").get_data(as_text=True)
    assert "短信通知已开通，发送到 139****5678" in detail and PHONE not in detail


@pytest.mark.parametrize("phone", ["12345", "23912345678", "1391234567x", "\x00", "１３９１２３４５６７８"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused_naming_it(app, client, phone):
    number, receipt = _sent(client)
    response = _ask(client, number, phone, receipt)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and ("11位" in html or "字符" in html)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        db.session.remove()


def test_a_wrong_code_says_how_many_tries_are_left_and_the_fifth_waits(app, client):
    number, receipt = _sent(client)
    _ask(client, number, PHONE, receipt)
    wrong = "000000" if _code(app) != "000000" else "111111"
    response = _confirm(client, number, wrong)
    assert response.status_code == 422 and "还可以尝试 4 次" in response.get_data(as_text=True)
    for _ in range(3):
        _confirm(client, number, wrong)
    response = _confirm(client, number, wrong)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 900
    assert "15 分钟后" in response.get_data(as_text=True)


def test_codes_asked_for_from_one_address_are_limited(app, client):
    app.config["OPT_IN_LIMIT_PER_ADDRESS"] = "3 per hour"
    try:
        number, receipt = _sent(client)
        answers = [_ask(client, number, f"1391234567{i}") for i in range(4)]
        statuses = [a.status_code for a in answers]
        assert int(answers[3].headers["Retry-After"]) > 0
    finally:
        app.config["OPT_IN_LIMIT_PER_ADDRESS"] = "10 per hour"
    assert statuses == [303, 303, 303, 429]


def test_another_browser_cannot_reach_a_requests_texts(app, client):
    number, _ = _sent(client)
    stranger = app.test_client()
    assert stranger.get(f"/track/{number}/texts").status_code == 404
    token = _form_csrf(stranger.get("/track/").get_data(as_text=True), "/track/")
    for path in ("texts", "texts/confirm", "texts/stop"):
        response = stranger.post(f"/track/{number}/{path}", data={"phone": PHONE, "code": "123456",
                                                                  "csrf_token": token})
        assert response.status_code == 404, path


def test_stopping_on_the_page_deletes_the_number(app, client):
    number, receipt = _sent(client)
    _ask(client, number, PHONE, receipt)
    _confirm(client, number, _code(app))
    page = client.get(f"/track/{number}").get_data(as_text=True)  # one tap, on the request's own page
    response = client.post(f"/track/{number}/texts/stop",
                           data={"csrf_token": _form_csrf(page, f"/track/{number}/texts/stop")})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        db.session.remove()
    assert "有进展时短信通知我" in client.get(f"/track/{number}").get_data(as_text=True)


# ------------------------------------------------------------------------------------------ links in a message

@pytest.fixture
def answered(app):
    """An opted-in request answered by the province: (number, id, the answered message's token)."""
    with app.app_context():
        province = staff_of("44")
        made = opted_in(submit().ticket)
        made = tickets.take("reply", tickets.take("accept", made, province, NOW), province, NOW, text="已追回工资。")
        outbox.deliver(DevelopmentSms(), lambda: NOW)
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "answered"))
        assert row.state is MessageState.SENT
        result = made.number, made.id, links.make(made.id, "rate", NOW)
        db.session.remove()
    return result


def test_the_answered_messages_link_opens_the_one_tap_rating_without_the_code(app, answered):
    number, ticket_id, token = answered
    fresh = app.test_client()
    response = fresh.get(f"/m/{token}")
    assert response.status_code == 303 and response.headers["Location"] == f"/track/{number}/rating"
    page = fresh.get(f"/track/{number}/rating")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert html.count('name="rating"') == 3 and "已追回工资。" in html
    response = fresh.post(f"/track/{number}/rating", data={
        "rating": "unsatisfied", "csrf_token": _form_csrf(html, f"/track/{number}/rating")})
    assert response.status_code == 303
    with app.app_context():
        made = db.session.get(Ticket, ticket_id)
        assert made.status is Status.REOPENED and made.rating is Rating.UNSATISFIED and made.reopen_count == 1
        db.session.remove()
    assert fresh.get(f"/track/{number}/rating").status_code == 303  # rated: back to the request


def test_a_link_opens_its_own_ticket_only_and_not_when_altered_or_old(app, clock, answered):
    number, ticket_id, token = answered
    with app.app_context():
        other = submit("other").ticket.number
        db.session.remove()
    fresh = app.test_client()
    assert fresh.get(f"/m/{token}").status_code == 303
    assert fresh.get(f"/track/{number}").status_code == 200
    assert fresh.get(f"/track/{other}").status_code == 404  # another ticket: the link is for one
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (tampered, token[:-1], "x" * 28, "%00", "a/b"):
        assert app.test_client().get(f"/m/{bad}").status_code == 404
    clock.advance(hours=72)
    late = app.test_client()
    assert late.get(f"/m/{token}").status_code == 404 and late.get(f"/track/{number}").status_code == 404


def test_the_stop_link_asks_for_one_tap_and_a_get_changes_nothing(app, answered):
    number, ticket_id, _ = answered
    with app.app_context():
        token = links.make(ticket_id, "track", NOW)
    fresh = app.test_client()
    page = fresh.get(f"/m/{token}/stop")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "139****5678" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
        db.session.remove()
    response = fresh.post(f"/m/{token}/stop", data={"csrf_token": _form_csrf(html, f"/m/{token}/stop")})
    assert response.status_code == 200 and "您的号码已删除" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        db.session.remove()
    assert fresh.get(f"/track/{number}").status_code == 200


# ------------------------------------------------------------------------------------------ a lost code

def test_a_lost_code_is_sent_again_with_one_answer_for_known_and_unknown_numbers(app, client):
    with app.app_context():
        submit("left", anonymous=False, contact_phone=PHONE)
        db.session.remove()
    answers = []
    for phone in (PHONE, "13700000000"):
        page = client.get("/track/lost").get_data(as_text=True)
        response = client.post("/track/lost", data={"phone": phone, "csrf_token": _form_csrf(page, "/track/lost")})
        assert response.status_code == 200
        # the same page but for the CSRF tokens, which carry the second they were made in
        answers.append(re.sub(r'(value="|"X-CSRFToken": ")[^"]+"', "", response.get_data(as_text=True)))
    assert answers[0] == answers[1] and 'id="lost-sent"' in answers[0]
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "resend")).all()
        assert [m.phone_hash for m in sent] == [phones.hash_of(PHONE)]
        db.session.remove()


def test_lost_code_requests_from_one_address_are_limited(app, client):
    app.config["LOST_CODE_LIMIT_PER_ADDRESS"] = "2 per hour"
    try:
        statuses = []
        for _ in range(3):
            page = client.get("/track/lost").get_data(as_text=True)
            statuses.append(client.post("/track/lost", data={
                "phone": PHONE, "csrf_token": _form_csrf(page, "/track/lost")}).status_code)
    finally:
        app.config["LOST_CODE_LIMIT_PER_ADDRESS"] = "10 per hour"
    assert statuses == [200, 200, 429]


def test_the_lost_code_page_refuses_a_bad_number_naming_the_field(client):
    page = client.get("/track/lost").get_data(as_text=True)
    response = client.post("/track/lost", data={"phone": "12", "csrf_token": _form_csrf(page, "/track/lost")})
    assert response.status_code == 422 and "11位" in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------ staff and admins

def test_staff_never_see_the_number_a_worker_gets_texts_on(app, client, make_user):
    with app.app_context():
        made = opted_in(submit().ticket)
        ticket_id = made.id
        db.session.remove()
    staff = make_user(Role.STAFF, region="44")
    assert login(client, staff.phone).status_code == 303
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert made.number in page and 'id="ticket-texts-on"' in page  # told that texts go, not where
    assert PHONE not in page and "139****5678" not in page and PHONE[-4:] not in page


def test_administrators_see_the_outbox_the_dead_letters_and_send_one_again(app, client, make_user):
    with app.app_context():
        opted_in(submit().ticket)

        class Refusing:
            name = "refusing"

            def send(self, message):
                raise PermanentFailure("isv.SMS_TEMPLATE_ILLEGAL: template not approved")

        outbox.deliver(Refusing(), lambda: NOW)
        dead_id = outbox.dead_letters()[0].id
        db.session.remove()
    admin = make_user(Role.ADMIN)
    assert login(client, admin.phone).status_code == 303
    page = client.get("/admin/messages")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "isv.SMS_TEMPLATE_ILLEGAL: template not approved" in html
    response = client.post(f"/admin/messages/{dead_id}/send-again",
                           data={"csrf_token": _form_csrf(html, f"/admin/messages/{dead_id}/send-again")})
    assert response.status_code == 303
    with app.app_context():
        outbox.deliver(DevelopmentSms(), lambda: NOW)
        db.session.remove()
    html = client.get("/admin/messages").get_data(as_text=True)
    assert PHONE in html and "验证码" in html  # the development provider's copy, development only
    response = client.post(f"/admin/messages/{dead_id}/send-again", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404  # sent now: nothing dead to send again


# ------------------------------------------------------------------------------------------ off, and settings

def test_with_messages_off_nothing_is_offered_or_queued(make_app):
    off = make_app(SMS_PROVIDER="")
    client = off.test_client()
    number, receipt = _sent(client)
    assert 'id="receipt-texts"' not in receipt
    assert client.get(f"/track/{number}/texts").status_code == 404
    assert client.get("/track/lost").status_code == 404
    assert "12351" in client.get("/track/").get_data(as_text=True)


@pytest.mark.parametrize(("settings", "named"), [
    ({"ENVIRONMENT": "production", "TRUSTED_HOSTS": ["portal.example.cn"], "SMS_PROVIDER": "development"},
     "PORTAL_SMS_PROVIDER"),
    ({"SMS_PROVIDER": "aliyun"}, "SMS_ALIYUN_ACCESS_KEY_ID"),
    ({"SMS_PROVIDER": "carrier-pigeon"}, "PORTAL_SMS_PROVIDER"),
    ({"ENVIRONMENT": "production", "TRUSTED_HOSTS": ["portal.example.cn"], "SMS_PROVIDER": "tencent",
      "SMS_TENCENT_SECRET_ID": "id", "SMS_TENCENT_SECRET_KEY": "key", "SMS_TENCENT_SDK_APP_ID": "1400000000",
      "SMS_TEMPLATES": {"zh_CN": {"verify": "1"}}}, "PORTAL_PUBLIC_URL"),
    ({"MESSAGES_KEY": "short"}, "PORTAL_MESSAGES_KEY"),
    ({"QUIET_HOURS": [8, 22]}, "PORTAL_QUIET_HOURS"),
])
def test_settings_the_portal_refuses_to_start_with_name_themselves(database_url, settings, named):
    with pytest.raises(ConfigurationError, match=named):
        create_app(config_for(database_url, **settings))


def test_flask_worker_once_delivers_what_is_due_and_runs_the_sweep(app, runner, clock):
    with app.app_context():
        opted_in(submit().ticket)
        db.session.remove()
    clock.advance(minutes=1)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        states = db.session.scalars(select(OutboxMessage.state)).all()
        db.session.remove()
    assert states == [MessageState.SENT]
    assert clock.now() - NOW == timedelta(minutes=1)


@pytest.mark.parametrize(("lang", "stored"), [("en", "en"), ("zh", "zh_CN")])
def test_messages_go_in_the_language_of_the_page_the_worker_opted_in_on(app, client, lang, stored):
    client.get(f"/track/?lang={lang}")  # remembered in a cookie, as a worker's choice is
    number, receipt = _sent(client)
    assert _ask(client, number, PHONE, receipt).status_code == 303
    assert _confirm(client, number, _code(app)).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Subscription.locale)) == stored
        assert set(db.session.scalars(select(OutboxMessage.locale))) == {stored}
        db.session.remove()
