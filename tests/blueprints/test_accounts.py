"""Sign-in, sign-out and the session rules around them."""

import logging
import re

import pytest

from portal.extensions import db
from portal.services import users
from tests import factories
from tests.conftest import NOW, PASSWORD, csrf_token, login


def test_members_sign_in_with_their_mobile_number_and_land_on_their_card(client, make_user):
    make_user("member", phone="13800000001", name="李师傅")
    response = login(client, "138 0000 0001")
    assert response.status_code == 303 and response.headers["Location"] == "/member/card"
    html = client.get("/account").get_data(as_text=True)
    assert "李师傅" in html and "138****0001" in html and "13800000001" not in html


def test_signed_in_pages_are_never_cached(client, make_user):
    make_user(phone="13800000001")
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(client, "13800000001")
    for path in ("/account", "/", "/unions"):
        assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_staff_land_on_their_workbench_scoped_to_their_union(client, make_user):
    make_user("staff", phone="13800000001", region="440106")
    assert login(client, "13800000001").headers["Location"] == "/staff/"
    html = client.get("/staff/").get_data(as_text=True)
    assert "天河区总工会" in html and "石牌街道" in html and "越秀区" not in html


def test_a_wrong_password_re_renders_the_form_with_the_number_kept(client, make_user):
    make_user(phone="13800000001")
    response = login(client, "13800000001", "wrong-password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in html and "手机号码或密码不正确" in html
    assert 'value="13800000001"' in html and "wrong-password" not in html


def test_unknown_numbers_and_malformed_input_get_the_same_answer(client, make_user):
    make_user(phone="13800000001")
    answers = {login(client, phone, pw).get_data(as_text=True).count("手机号码或密码不正确")
               for phone, pw in [("13800000001", "nope-nope"), ("13900000009", PASSWORD)]}
    assert answers == {1}
    malformed = login(client, "12345", PASSWORD)
    assert malformed.status_code == 200 and "请输入11位手机号码" in malformed.get_data(as_text=True)


def test_an_over_long_password_is_a_normal_failure(client, make_user):
    make_user(phone="13800000001")
    response = login(client, "13800000001", "x" * 5000)
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)


def test_a_rejected_csrf_token_gives_the_form_back_with_what_was_typed(client, make_user):
    make_user(phone="13800000001")
    response = client.post("/login", data={"phone": "13800000001", "password": PASSWORD,
                                           "csrf_token": "expired-or-forged", "remember": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "为了您的安全" in html  # the expiry explanation
    assert 'value="13800000001"' in html and '<input checked id="remember"' in html
    assert client.get("/account").status_code == 302  # not signed in
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    again = client.post("/login", data={"phone": "13800000001", "password": PASSWORD, "csrf_token": fresh})
    assert again.status_code == 303


def test_the_csrf_token_outlives_a_slow_phone_form(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] >= 8 * 3600


def test_logout_revokes_the_session_on_the_server(app, client, make_user):
    make_user(phone="13800000001")
    login(client, "13800000001")
    copied = client.get_cookie("session").value
    response = client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/account")})
    assert response.status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account").status_code == 302


def test_logout_needs_a_csrf_token(client, make_user):
    make_user(phone="13800000001")
    login(client, "13800000001")
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_signing_in_starts_a_new_session(client, make_user):
    make_user(phone="13800000001")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    login(client, "13800000001")
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_disabling_a_user_ends_their_sessions(app, client, make_user):
    user = make_user(phone="13800000001")
    login(client, "13800000001")
    with app.app_context():
        users.set_active(user.id, False, NOW)
        db.session.remove()
    assert client.get("/account").status_code == 302


def test_remember_me_sets_a_hardened_cookie_for_members_only(client, make_user):
    make_user(phone="13800000001")
    login(client, "13800000001", remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None
    staff_client = client.application.test_client()
    make_user("staff", phone="13800000002")
    login(staff_client, "13800000002", remember="y")
    assert staff_client.get_cookie("remember_token") is None


@pytest.mark.parametrize(("target", "landing"), [
    ("/unions?city=4401", "/unions?city=4401"), ("https://evil.example/", "/member/card"),
    ("//evil.example/", "/member/card"), ("/\\evil.example", "/member/card"), ("javascript:alert(1)", "/member/card"),
])
def test_after_sign_in_only_local_next_targets_are_followed(client, make_user, target, landing):
    make_user(phone="13800000001")
    token = csrf_token(client, "/login")
    response = client.post("/login", query_string={"next": target},
                           data={"phone": "13800000001", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == landing


def test_htmx_sign_in_redirects_with_hx_redirect(client, make_user):
    make_user(phone="13800000001")
    token = csrf_token(client, "/login")
    response = client.post("/login", headers={"HX-Request": "true", "X-CSRFToken": token},
                           data={"phone": "13800000001", "password": PASSWORD})
    assert response.headers["HX-Redirect"] == "/member/card"


def test_repeated_failures_lock_the_account_but_not_others(app, client, make_user):
    make_user(phone="13800000001")
    make_user(phone="13800000002")
    allowed = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(allowed):
        assert login(client, "13800000001", "wrong-password").status_code == 200
    blocked = login(client, "13800000001")  # even the right password, during the cool-down
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    assert "尝试次数太多" in blocked.get_data(as_text=True)
    other = app.test_client()
    assert login(other, "13800000002").status_code == 303


def test_many_failures_from_one_address_are_throttled(app, make_user):
    make_user(phone="13800000001")
    allowed = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    client = app.test_client()
    statuses = [login(client, f"139{n:08d}", "wrong-password").status_code for n in range(allowed + 1)]
    assert statuses[:allowed] == [200] * allowed and statuses[-1] == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert login(elsewhere, "13800000001").status_code == 303


def test_successful_sign_ins_are_not_counted_against_the_limit(app, client, make_user):
    make_user(phone="13800000001")
    for _ in range(int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0]) + 2):
        assert login(client, "13800000001").status_code == 303
        client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/account")})


def test_sign_in_events_are_logged_without_secrets(client, make_user, caplog):
    user = make_user(phone="13800000001")
    with caplog.at_level(logging.INFO, logger="portal"):
        login(client, "13800000001", "wrong-password")
        login(client, "13800000001")
    assert "login failed" in caplog.text and f"login ok user={user.id}" in caplog.text
    assert "13800000001" not in caplog.text and PASSWORD not in caplog.text and "wrong-password" not in caplog.text


@pytest.mark.parametrize(("role", "landing"), [
    ("member", "/member/card"), ("merchant", "/merchant/"), ("station_manager", "/stations/manage/"),
])
def test_each_role_lands_where_it_works(app, client, make_user, role, landing):
    if role == "merchant":  # a cashier of a real merchant, so the counter opens
        with app.app_context():
            factories.merchant(staff=["13800000001"])
            db.session.remove()
    else:
        make_user(role, phone="13800000001")
    response = login(client, "13800000001")
    assert response.status_code == 303 and response.headers["Location"] == landing
    assert client.get(landing).status_code == 200


def test_a_next_target_still_wins_over_the_landing(client, make_user):
    make_user("merchant", phone="13800000001")
    token = csrf_token(client, "/login")
    response = client.post("/login", query_string={"next": "/merchant/offers"},
                           data={"phone": "13800000001", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/merchant/offers"
