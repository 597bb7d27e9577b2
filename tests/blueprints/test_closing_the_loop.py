"""Closing the loop through HTTP: staff reply with a promised date; the worker reads it, rates, stays open until
the date, reads what they sent, and writes again after the case closed (reopens once, then a linked request)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Rating, Status, Ticket
from portal.services import tickets
from tests.conftest import NOW
from tests.factories import staff_of, wages

DESCRIPTION = "老板拖欠三个月工资 <script>alert(1)</script>"


@pytest.fixture
def receipt(app):
    """A request from a worker who left a name and number, accepted by the province."""
    with app.app_context():
        made = tickets.submit(wages(description=DESCRIPTION, anonymous=False, contact_name="王小明",
                                    contact_phone="13912345678", employer="某某建筑劳务有限公司"), token="tok", now=NOW)
        tickets.take("accept", made.ticket, staff_of("44"), NOW)
        result = (made.ticket.number, made.query_code, made.ticket.id)
        db.session.remove()
        return result


def csrf(client, path: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def worker(app, number: str, code: str):
    """A browser that looked the request up with its code."""
    client = app.test_client()
    page = client.post("/track/", data={"number": number, "code": code, "csrf_token": csrf(client, "/track/")})
    assert page.status_code == 303
    return client


def staff_reply(client, ticket_id: int, **fields):
    path = f"/staff/tickets/{ticket_id}"
    return client.post(f"{path}/reply", data={"note": "用人单位承诺于12月10日前支付全部工资。",
                                              "csrf_token": csrf(client, path), **fields})


def take(app, ticket_id: int, action: str, at=NOW, **inputs):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        by = None if action in tickets.WORKER_ACTIONS else staff_of(ticket.handler_code)
        tickets.take(action, ticket, by, at, **inputs)
        db.session.remove()


def ticket_of(app, ticket_id: int) -> Ticket:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        db.session.expunge(ticket)
        db.session.remove()
        return ticket


def test_staff_reply_with_a_promised_date_and_the_page_shows_it_pending(app, client, login_as, receipt):
    _, _, ticket_id = receipt
    login_as("staff", region="44")
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'type="date" id="promised-by" name="promised_by" min="2026-11-20" max="2027-02-18"' in page
    assert 'aria-describedby="promised-by-hint"' in page
    assert staff_reply(client, ticket_id, promised_by="2026-12-10").status_code == 303
    assert ticket_of(app, ticket_id).promised_by.isoformat() == "2026-12-10"
    html = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "承诺兑现日期" in html and "2026年12月10日" in html and "未到期" in html
    assert '<span class="ticket-number">' in html


@pytest.mark.parametrize(("value", "status", "message"), [
    ("2026-11-19", 400, "请选择今天起 90 天内的日期。"),  # yesterday: the service refuses it
    ("2026-13-45", 422, "请输入 1900 年至 2100 年之间的日期"),  # not a date: the form refuses it
])
def test_a_promised_date_out_of_bounds_is_refused_and_the_reply_kept(app, client, login_as, receipt, value, status,
                                                                     message):
    _, _, ticket_id = receipt
    login_as("staff", region="44")
    response = staff_reply(client, ticket_id, promised_by=value)
    html = response.get_data(as_text=True)
    assert response.status_code == status and message in html
    assert "用人单位承诺于12月10日前支付全部工资。" in html and f'value="{value}"' in html  # kept as typed
    assert ticket_of(app, ticket_id).status is Status.ACCEPTED


def test_the_worker_reads_the_promise_rates_and_the_case_stays_open_until_the_date(app, receipt):
    number, code, ticket_id = receipt
    take(app, ticket_id, "reply", text="用人单位承诺于12月10日前支付全部工资。",
         promised_by=NOW.date() + timedelta(days=20))
    browser = worker(app, number, code)
    html = browser.get(f"/track/{number}").get_data(as_text=True)
    assert 'id="tracking-promise"' in html and "2026年12月10日" in html and "办理期限" not in html
    assert "如您满意，您的诉求将保留至2026年12月10日" in html
    response = browser.post(f"/track/{number}/rating", data={"rating": "satisfied",
                                                             "csrf_token": csrf(browser, f"/track/{number}")})
    assert response.status_code == 303
    html = browser.get(f"/track/{number}").get_data(as_text=True)
    assert "感谢您的评价。您的诉求将保留至2026年12月10日" in html and "等待兑现承诺" in html
    assert "问题仍未解决？请告诉我们" in html and "提交后，您的诉求将重新办理。" in html
    assert 'id="rating-form"' not in html
    assert ticket_of(app, ticket_id).status is Status.AWAITING_PROMISE


def test_what_you_sent_shows_only_what_the_worker_wrote_folded(app, receipt):
    number, code, _ = receipt
    html = worker(app, number, code).get(f"/track/{number}").get_data(as_text=True)
    sent = re.search(r'<details id="tracking-sent".*?</details>', html, re.S).group(0)
    assert sent.startswith('<details id="tracking-sent" class="sent" hx-preserve')  # folded, kept open on refresh
    assert "<summary>您提交的内容</summary>" in sent
    assert "老板拖欠三个月工资 &lt;script&gt;alert(1)&lt;/script&gt;" in sent and "<script>alert" not in html
    assert "某某建筑劳务有限公司" in sent and "追索劳动报酬" in sent and "139****5678" in sent
    assert "13912345678" not in html and "王小明" not in html
    assert '<h1>诉求 <span class="ticket-number">' + number + "</span></h1>" in html


def test_writing_after_close_reopens_once_then_starts_a_linked_request_the_worker_follows(app, receipt):
    number, code, ticket_id = receipt
    take(app, ticket_id, "reply", text="答复")
    take(app, ticket_id, "rate", rating=Rating.SATISFIED)
    browser = worker(app, number, code)
    path = f"/track/{number}"
    assert "提交后，您的诉求将重新办理。" in browser.get(path).get_data(as_text=True)
    response = browser.post(f"{path}/messages", data={"text": "工资还是没到账。", "csrf_token": csrf(browser, path)})
    assert response.status_code == 303 and response.headers["Location"] == path
    html = browser.get(path).get_data(as_text=True)
    assert "您补充的信息已提交，您的诉求将重新办理。" in html and "您补充了信息，您的诉求已重新办理" in html
    assert ticket_of(app, ticket_id).status is Status.REOPENED

    take(app, ticket_id, "accept")
    take(app, ticket_id, "reply", text="再次答复")
    take(app, ticket_id, "rate", rating=Rating.SATISFIED)
    assert "您的诉求已重新办理过一次" in browser.get(path).get_data(as_text=True)
    response = browser.post(f"{path}/messages", data={"text": "公司又拖欠了十二月的工资。",
                                                      "csrf_token": csrf(browser, path)})
    with app.app_context():
        new = db.session.scalar(select(Ticket).where(Ticket.follows_id == ticket_id))
        new_number = new.number
        db.session.remove()
    assert response.status_code == 303 and response.headers["Location"] == f"/track/{new_number}"
    html = browser.get(f"/track/{new_number}").get_data(as_text=True)  # this browser may follow it too
    assert f"您写的内容已作为新诉求提交，工单号 {new_number}。查询码不变。" in html
    assert f'href="/track/{number}"' in html and "接续诉求" in html and "公司又拖欠了十二月的工资。" in html
    old = browser.get(path).get_data(as_text=True)
    assert "已转为诉求" in old and f"已转为新诉求 {new_number} 继续办理" in old and 'id="message-form' not in old
    # Another browser with the same query code finds the new request too.
    assert worker(app, new_number, code).get(f"/track/{new_number}").status_code == 200


def test_a_second_send_to_a_continued_request_is_refused_on_the_page(app, receipt):
    number, code, ticket_id = receipt
    take(app, ticket_id, "reply", text="答复")
    take(app, ticket_id, "rate", rating=Rating.UNSATISFIED)
    take(app, ticket_id, "accept")
    take(app, ticket_id, "reply", text="再次答复")
    take(app, ticket_id, "rate", rating=Rating.SATISFIED)
    take(app, ticket_id, "add_information", text="又拖欠了")
    browser = worker(app, number, code)
    response = browser.post(f"/track/{number}/messages", data={"text": "再补充",
                                                               "csrf_token": csrf(browser, f"/track/{number}")})
    assert response.status_code == 409 and "此诉求已转为诉求" in response.get_data(as_text=True)
