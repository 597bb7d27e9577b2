"""The worker's grievance form, through HTTP."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from portal.extensions import db
from portal.models import Attachment, Channel, Ticket
from tests.conftest import csrf_token, grievance_form
from tests.factories import PDF, jpeg_with_gps


def count(app, model=Ticket) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


def test_a_worker_submits_with_a_photo_and_gets_a_number_and_a_query_code(app, client):
    data = grievance_form(client) | {"evidence": [(io.BytesIO(jpeg_with_gps()), "欠薪证据.jpg"),
                                                  (io.BytesIO(PDF), "合同.pdf")]}
    response = client.post("/grievances/", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    number = re.search(r"44-\d{8}-\d{4}", html).group(0)
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", html).group(0)
    assert f"#number={number}&amp;code={code}" in html  # the code travels only after '#', never to the server
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.number == number and ticket.channel is Channel.WEB and ticket.amount_owed_fen == 1_200_050
        assert ticket.workers_affected == 12 and ticket.place_code == "440106006" and ticket.anonymous
        assert [a.original_name for a in ticket.attachments] == ["欠薪证据.jpg", "合同.pdf"]
        db.session.remove()


def test_a_double_tap_or_a_retry_gives_back_the_same_ticket(app, client):
    data = grievance_form(client)
    first = client.post("/grievances/", data=data).get_data(as_text=True)
    again = client.post("/grievances/", data=data).get_data(as_text=True)
    code = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")
    assert code.search(first).group(0) == code.search(again).group(0)
    assert count(app) == 1


def test_going_back_and_sending_the_same_request_again_finds_the_first(app, client):
    first = client.post("/grievances/", data=grievance_form(client)).get_data(as_text=True)
    again = client.post("/grievances/", data=grievance_form(client)).get_data(as_text=True)  # a fresh form: new token
    number = re.compile(r"44-\d{8}-\d{4}")
    assert number.search(first).group(0) == number.search(again).group(0) and count(app) == 1
    different = client.post("/grievances/", data=grievance_form(client, description="另一件事")).get_data(as_text=True)
    assert number.search(different).group(0) != number.search(first).group(0) and count(app) == 2


def test_a_qr_poster_opens_the_form_with_the_place_filled_in(app, client):
    html = client.get("/g/440106006").get_data(as_text=True)
    assert '<option value="440106006" selected>石牌街道</option>' in html
    assert 'action="/g/440106006"' in html
    response = client.post("/g/440106006", data=grievance_form(client, "/g/440106006"))
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Ticket.channel)) is Channel.QR
        db.session.remove()


# A code no poster holds opens the form without a place: tests/blueprints/test_poster_to_form.py.


def test_without_javascript_the_place_lists_refresh_and_keep_what_was_typed(app, client):
    data = grievance_form(client, district="", town="", description="已经写好的一段话") | {"refresh_place": "1"}
    response = client.post("/grievances/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<option value="440106">天河区</option>' in html and "已经写好的一段话" in html
    assert count(app) == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": ""}, "请选择诉求类型"),
    ({"kind": "bribe"}, ""),
    ({"category": ""}, "请选择诉求类别"),
    ({"category": "labour.nothing"}, ""),
    ({"description": "   "}, "请说说发生了什么"),
    ({"description": "字" * 4001}, ""),
    ({"district": "", "town": ""}, "请选择事情发生地"),
    ({"amount_owed": "abc"}, "请输入金额"),
    ({"amount_owed": "NaN"}, "请输入金额"),
    ({"amount_owed": "-5"}, "请输入金额"),
    ({"workers_affected": "-3"}, "1 到 100000"),
    ({"workers_affected": "0"}, "1 到 100000"),
    ({"lat": "nan", "lng": "113.3"}, "无法读取位置"),
    ({"lat": "1e400", "lng": "113.3"}, "无法读取位置"),
    ({"lat": "91", "lng": "113.3"}, "无法读取位置"),
    ({"consent": ""}, "请勾选同意"),
    ({"anonymous": "", "contact_phone": "12345"}, "请输入11位手机号码"),
])
def test_bad_input_re_renders_the_form_with_a_clear_message_and_stores_nothing(app, client, overrides, message):
    data = grievance_form(client, **overrides)
    if not overrides.get("consent", "y"):
        data.pop("consent")
    response = client.post("/grievances/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and ('class="error"' in html or 'role="alert"' in html)
    assert "老板拖欠" in html or "description" in overrides  # what was typed is still there
    assert count(app) == 0


@pytest.mark.parametrize(("files", "message"), [
    ([(b"<html><script>alert(1)</script>", "photo.jpg")], "photo.jpg 不是照片"),
    ([(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg")], "a.svg 不是照片"),
    ([(PDF, f"{n}.pdf") for n in range(6)], "最多上传 5 个文件"),
    ([(PDF + b"0" * (10 * 1024 * 1024), "big.pdf")], "超过 10 MB"),
])
def test_bad_files_are_refused_with_nothing_stored(app, client, files, message):
    data = grievance_form(client) | {"evidence": [(io.BytesIO(content), name) for content, name in files]}
    # Built by hand: for a large body the test client spools to a temporary file it never closes.
    environ = EnvironBuilder(path="/grievances/", method="POST", data=data,
                             content_type="multipart/form-data").get_environ()
    try:
        response = client.open(environ)
    finally:
        environ["wsgi.input"].close()
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(app) == 0 and count(app, Attachment) == 0


def test_a_tampered_or_expired_form_token_asks_to_send_again_and_keeps_the_input(app, client):
    data = grievance_form(client) | {"token": "forged"}
    response = client.post("/grievances/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "表单已过期" in html and "老板拖欠" in html
    fresh = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/grievances/", data=data | {"token": fresh}).status_code == 200
    app.config["FORM_TOKEN_MAX_AGE"] = -1
    try:
        assert client.post("/grievances/", data=grievance_form(client)).status_code == 422
    finally:
        app.config["FORM_TOKEN_MAX_AGE"] = 24 * 3600
    assert count(app) == 1


def test_a_missing_csrf_token_gives_the_form_back_with_everything_typed(app, client):
    data = grievance_form(client, description="这段话不能丢") | {"csrf_token": ""}
    response = client.post("/grievances/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "这段话不能丢" in html and 'value="某某建筑劳务公司"' in html
    assert count(app) == 0


def test_payloads_are_stored_literally(app, client):
    payload = "<script>alert(1)</script>{{ 7*7 }}<img src=x onerror=alert(1)> hx-get=\"/logout\""
    assert client.post("/grievances/", data=grievance_form(client, description=payload)).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Ticket.description)) == payload
        db.session.remove()


def test_signed_in_members_own_their_tickets(app, client, login_as):
    member = login_as("member")
    assert client.post("/grievances/", data=grievance_form(client)).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Ticket.member_id)) == member.id
        db.session.remove()


def test_category_suggestions_while_typing(client):
    token = csrf_token(client, "/grievances/")
    response = client.post("/grievances/suggest", data={"description": "从脚手架上摔伤了，公司不给报工伤"},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 200 and "工伤" in response.get_data(as_text=True)
    quiet = client.post("/grievances/suggest", data={"description": "你好"}, headers={"X-CSRFToken": token})
    assert quiet.get_data(as_text=True).strip() == ""
    assert client.post("/grievances/suggest", data={"description": "工资"}).status_code == 400


def test_one_address_may_send_twenty_requests_an_hour(app, client):
    for _ in range(20):
        assert client.post("/grievances/", data=grievance_form(client)).status_code == 200
    assert client.post("/grievances/", data=grievance_form(client)).status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.post("/grievances/", data=grievance_form(other)).status_code == 200
