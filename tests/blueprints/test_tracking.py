"""Following a request through HTTP, as the worker does."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Rating, Role, Status, Ticket, User
from portal.services import tickets
from tests.factories import NOW, PDF, wages


@pytest.fixture
def receipt(app):
    with app.app_context():
        made = tickets.submit(wages(description="老板拖欠工资 <script>alert(1)</script>"), token="tok", now=NOW)
        result = (made.ticket.number, made.query_code, made.ticket.id)
        db.session.remove()
        return result


def csrf(client, path="/track/") -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     client.get(path).get_data(as_text=True)).group(1)


def look_up(client, number, code):
    return client.post("/track/", data={"number": number, "code": code, "csrf_token": csrf(client)})


def staff_act(app, level_code, action):
    """Run a workflow step as a staff member of the union `level_code`."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.region_code == level_code, User.role == Role.STAFF))
        ticket = db.session.scalar(select(Ticket))
        action(ticket, user)
        db.session.remove()


def test_a_worker_looks_up_a_request_and_reads_where_it_stands(client, receipt):
    # "20 working days left": the page counts them at the `clock` fixture's NOW, the day the request came in.
    number, code, _ = receipt
    response = look_up(client, number.lower(), code.lower().replace("-", " "))
    assert response.status_code == 303 and response.headers["Location"] == f"/track/{number}"
    page = client.get(f"/track/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "已提交" in html and "广东省总工会" in html and "2026年12月18日" in html
    assert "还有 20 个工作日" in html
    assert code not in html  # never shown again, never in a URL


def test_a_wrong_number_or_code_gets_one_and_the_same_answer(client, receipt):
    number, code, _ = receipt
    answers = []
    for n, c in [(number, "0000-0000-0000-0000"), ("44-20261120-9999", code), (number, "short")]:
        response = look_up(client, n, c)
        assert response.status_code == 404
        answers.append(re.search(r'<div class="alert" role="alert">(.*?)</div>', response.get_data(as_text=True),
                                 re.S).group(1))
    assert len(set(answers)) == 1 and "工单号或查询码不正确" in answers[0]


def test_the_code_is_never_accepted_in_a_url(client, receipt):
    number, code, _ = receipt
    response = client.get(f"/track/?number={number}&code={code}")
    assert response.status_code == 200
    assert client.get(f"/track/{number}").status_code == 404  # nothing was granted


def test_without_a_look_up_the_page_does_not_exist(client, receipt):
    number, _, _ = receipt
    assert client.get(f"/track/{number}").status_code == 404
    assert client.get("/track/44-00000000-0000").status_code == 404


def test_the_open_page_refreshes_its_timeline_through_htmx(client, receipt):
    number, code, _ = receipt
    look_up(client, number, code)
    page = client.get(f"/track/{number}").get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in page
    fragment = client.get(f"/track/{number}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="tracking-timeline"') and "<html" not in fragment
    assert fragment.strip() in page.replace(fragment.strip(), fragment.strip())


def test_staff_steps_show_in_plain_words_and_internal_notes_stay_internal(app, client, make_user, receipt):
    number, code, _ = receipt
    for region in ("44", "4401"):
        make_user(Role.STAFF, region=region)
    staff_act(app, "44", lambda t, u: tickets.take("accept", t, u, NOW))
    staff_act(app, "44", lambda t, u: tickets.take("dispatch", t, u, NOW, target="4401",
                                                   note="内部备注：该企业曾多次被投诉"))
    staff_act(app, "4401", lambda t, u: tickets.take("accept", t, u, NOW))
    staff_act(app, "4401", lambda t, u: tickets.take("request_extension", t, u, NOW, days=30,
                                                     reason="内部：需调取考勤"))
    staff_act(app, "44", lambda t, u: tickets.take("decide_extension", t, u, NOW, approve=True, note=""))
    staff_act(app, "4401", lambda t, u: tickets.take("reply", t, u, NOW,
                                                     text="已责令企业于本周内支付 <b>全部</b> 工资。"))
    look_up(client, number, code)
    html = client.get(f"/track/{number}").get_data(as_text=True)
    assert "广州市总工会 已受理" in html and "已转交离您更近的 广州市总工会 办理" in html
    assert "已责令企业于本周内支付 &lt;b&gt;全部&lt;/b&gt; 工资。" in html
    assert "内部备注" not in html and "调取考勤" not in html
    assert "办理期限已延长" in html and "已答复" in html


def test_the_worker_adds_information_with_a_file(app, client, receipt):
    number, code, _ = receipt
    look_up(client, number, code)
    data = {"text": "补充：<script>alert(2)</script>", "csrf_token": csrf(client, f"/track/{number}"),
            "evidence": [(io.BytesIO(PDF), "工资条.pdf")]}
    response = client.post(f"/track/{number}/messages", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    html = client.get(f"/track/{number}").get_data(as_text=True)
    assert "补充信息已提交" in html or "您补充的信息已提交" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "<script>alert(2)" not in html
    assert "附件 1 个" in html


def test_withdrawing_is_possible_only_before_acceptance(app, client, make_user, receipt):
    number, code, _ = receipt
    look_up(client, number, code)
    make_user(Role.STAFF, region="44")
    staff_act(app, "44", lambda t, u: tickets.take("accept", t, u, NOW))
    response = client.post(f"/track/{number}/withdraw", data={"csrf_token": csrf(client, f"/track/{number}")})
    assert response.status_code == 409 and "当前状态下不能" in response.get_data(as_text=True)


def test_a_worker_withdraws(app, client, receipt):
    number, code, ticket_id = receipt
    look_up(client, number, code)
    response = client.post(f"/track/{number}/withdraw", data={"reason": "已解决",
                                                              "csrf_token": csrf(client, f"/track/{number}")})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status is Status.WITHDRAWN
        db.session.remove()


@pytest.mark.parametrize(("rating", "status"), [("satisfied", Status.CLOSED), ("unsatisfied", Status.REOPENED)])
def test_the_worker_rates_the_answer(app, client, make_user, receipt, rating, status):
    number, code, ticket_id = receipt
    make_user(Role.STAFF, region="44")
    staff_act(app, "44", lambda t, u: tickets.take("accept", t, u, NOW))
    staff_act(app, "44", lambda t, u: tickets.take("reply", t, u, NOW, text="已处理"))
    look_up(client, number, code)
    assert "评价答复" in client.get(f"/track/{number}").get_data(as_text=True)
    token = csrf(client, f"/track/{number}")
    bad = client.post(f"/track/{number}/rating", data={"rating": "amazing", "csrf_token": token})
    assert bad.status_code == 422
    response = client.post(f"/track/{number}/rating", data={"rating": rating, "comment": "谢谢",
                                                            "csrf_token": csrf(client, f"/track/{number}")})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is status and ticket.rating is Rating(rating)
        db.session.remove()


def test_actions_on_someone_elses_ticket_are_404(app, client, receipt):
    number, _, _ = receipt
    token = csrf(client)
    for action in ("messages", "withdraw", "rating"):
        response = client.post(f"/track/{number}/{action}", data={"text": "x", "rating": "satisfied",
                                                                  "csrf_token": token})
        assert response.status_code == 404


def test_signed_in_members_see_their_own_requests_without_codes(app, client, login_as):
    member = login_as("member")
    with app.app_context():
        own = tickets.submit(wages(member_id=member.id), token="mine", now=NOW).ticket.number
        other = tickets.submit(wages(), token="theirs", now=NOW).ticket.number
        db.session.remove()
    html = client.get("/track/").get_data(as_text=True)
    assert own in html and other not in html
    assert client.get(f"/track/{own}").status_code == 200
    assert client.get(f"/track/{other}").status_code == 404


def test_guessing_codes_is_throttled(app, client, receipt):
    number, code, _ = receipt
    for _ in range(20):
        assert look_up(client, number, "AAAA-AAAA-AAAA-AAAA").status_code == 404
    blocked = look_up(client, number, code)
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
