"""The second factor through the web: enrolment at a staff member's first sign-in, no session before the code,
the code step and recovery codes, its own rate limit, the password and a code asked again before each sensitive
change, voluntary enrolment, administrators' resets (page and CLI), and what is logged."""

import logging
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import LoginSession, RecoveryCode, Role, SecondFactorChange, SecondFactorEvent, User
from portal.services import twofactor
from tests import factories
from tests.conftest import NOW, PASSWORD, TOTP_SECRET, csrf_token, login, pass_second_factor, unused_code

SECRET_GROUPS = re.compile(r'<p class="secret-key" id="totp-secret">(.*?)</p>', re.S)


@pytest.fixture
def en(client):
    client.get("/?lang=en")
    return client


def password_step(client, phone: str, password: str = PASSWORD, **query):
    token = csrf_token(client, "/login")
    return client.post("/login", query_string=query, data={"phone": phone, "password": password, "csrf_token": token})


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, path.split("?")[0]), **data})


def sessions(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(LoginSession))
        db.session.remove()
        return count


def offered_secret(html: str) -> str:
    groups = re.findall(r'<span class="voucher-code">([A-Z2-7]{4})</span>', SECRET_GROUPS.search(html).group(1))
    assert len(groups) == 8
    return "".join(groups)


def code_of(secret: str, steps: int = 0) -> str:
    return factories.totp(NOW, steps, secret=secret)


def recovery_codes(html: str) -> list[str]:
    return re.findall(r'<li><span class="code">([0-9A-Z]{5}-[0-9A-Z]{5})</span></li>', html)


# ------------------------------------------------------------------------------------ the first sign-in

def test_staff_without_a_second_factor_set_it_up_after_the_password(app, en, make_user):
    staff = make_user(Role.STAFF, region="440106", second_factor=False)
    response = password_step(en, staff.phone)
    assert response.status_code == 303 and response.headers["Location"] == "/login/enrol"
    assert sessions(app) == 0 and en.get("/staff/").status_code == 302  # the password alone opens nothing

    page = en.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"].endswith("no-store")
    assert '<svg class="qr" role="img" aria-label="QR code to scan with the authenticator app"' in html
    secret = offered_secret(html)
    assert 'href="otpauth://totp/%E8%81%8C%E5%B7%A5%E6%9C%8D%E5%8A%A1%E9%97%A8%E6%88%B7:' in html
    assert f"secret={secret}" in html and staff.phone not in html
    assert offered_secret(en.get("/login/enrol").get_data(as_text=True)) == secret

    wrong = post(en, "/login/enrol", code=code_of(TOTP_SECRET))
    assert wrong.status_code == 200 and 'role="alert"' in wrong.get_data(as_text=True)
    assert sessions(app) == 0

    done = post(en, "/login/enrol", code=code_of(secret))
    html = done.get_data(as_text=True)
    codes = recovery_codes(html)
    assert done.status_code == 200 and done.headers["Cache-Control"].endswith("no-store") and len(set(codes)) == 10
    assert 'href="/staff/"' in html  # on to where the sign-in was going
    assert sessions(app) == 1 and en.get("/staff/").status_code == 200
    with app.app_context():
        user = db.session.get(User, staff.id)
        assert user.totp_secret == secret and user.totp_last_step == twofactor.step_at(NOW)
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)


def test_the_enrolment_at_sign_in_goes_where_the_sign_in_was_going(app, client, make_user):
    staff = make_user(Role.STAFF, second_factor=False)
    password_step(client, staff.phone, next="/dashboard/")
    secret = offered_secret(client.get("/login/enrol").get_data(as_text=True))
    html = post(client, "/login/enrol", code=code_of(secret)).get_data(as_text=True)
    assert 'href="/dashboard/"' in html and "保存您的恢复码" in html


# ------------------------------------------------------------------------------------------ the code step

def test_staff_with_a_second_factor_give_a_code_after_the_password(app, en, make_user):
    staff = make_user(Role.STAFF, region="440106")
    response = password_step(en, staff.phone, next="/staff/?status=all")
    assert response.headers["Location"] == "/login/code" and sessions(app) == 0
    with en.session_transaction() as session:
        assert "_user_id" not in session and "sign_in_pending" in session
    assert en.get("/staff/").status_code == 302 and en.get("/account").status_code == 302

    page = en.get("/login/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page and "autofocus" in page
    wrong = post(en, "/login/code", code=code_of(TOTP_SECRET, 3))
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and sessions(app) == 0
    assert 'role="alert" tabindex="-1" autofocus' in html and 'aria-invalid="true"' in html
    assert "This code is not right" in html and 'autofocus id="code"' not in html  # the summary takes focus

    done = post(en, "/login/code", code=code_of(TOTP_SECRET))
    assert done.status_code == 303 and done.headers["Location"] == "/staff/?status=all"
    assert sessions(app) == 1 and en.get("/staff/").status_code == 200
    with en.session_transaction() as session:
        assert "sign_in_pending" not in session


def test_a_code_is_refused_the_second_time(app, en, make_user):
    staff = make_user(Role.STAFF)
    code = code_of(TOTP_SECRET)
    password_step(en, staff.phone)
    assert post(en, "/login/code", code=code).status_code == 303
    other = app.test_client()
    other.get("/?lang=en")
    password_step(other, staff.phone)
    replayed = post(other, "/login/code", code=code)
    assert replayed.status_code == 200 and "already been used" in replayed.get_data(as_text=True)
    assert post(other, "/login/code", code=code_of(TOTP_SECRET, 1)).status_code == 303


def test_a_recovery_code_signs_in_once(app, en, make_user):
    staff = make_user(Role.STAFF, second_factor=False)
    with app.app_context():
        codes = factories.enrol(db.session.get(User, staff.id))
        db.session.remove()
    password_step(en, staff.phone)
    page = en.get("/login/code?recovery=1").get_data(as_text=True)
    assert "Recovery code" in page and 'inputmode="numeric"' not in page
    done = post(en, "/login/code?recovery=1", code=codes[0].lower())
    assert done.status_code == 303 and done.headers["Location"] == "/account/second-factor"
    assert "recovery codes left: 9" in en.get("/account/second-factor").get_data(as_text=True)

    again = app.test_client()
    again.get("/?lang=en")
    password_step(again, staff.phone)
    refused = post(again, "/login/code?recovery=1", code=codes[0])
    assert refused.status_code == 200 and "wrong or has already been used" in refused.get_data(as_text=True)
    assert again.get("/staff/").status_code == 302


def test_the_code_step_waits_only_a_few_minutes(app, en, make_user, clock):
    staff = make_user(Role.STAFF)
    password_step(en, staff.phone)
    clock.advance(seconds=app.config["SECOND_FACTOR_PENDING_SECONDS"] + 1)
    page = en.get("/login/code")
    assert page.status_code == 200 and "Sign in again" in page.get_data(as_text=True)
    late = post(en, "/login/code", code=twofactor.code_at(TOTP_SECRET, clock.now()))
    assert "Sign in again" in late.get_data(as_text=True) and sessions(app) == 0


def test_without_a_password_first_there_is_no_code_step(app, client, make_user):
    make_user(Role.STAFF)
    assert "请重新登录" in client.get("/login/code").get_data(as_text=True)
    assert "请重新登录" in client.get("/login/enrol").get_data(as_text=True)
    post(client, "/login/code", code=code_of(TOTP_SECRET))
    with client.session_transaction() as session:  # a forged half-done sign-in is worth nothing either
        session["sign_in_pending"] = "WzEsMTc2MzYwNDAwMF0.forged"
    assert "请重新登录" in post(client, "/login/code", code=code_of(TOTP_SECRET, 1)).get_data(as_text=True)
    assert sessions(app) == 0


def test_members_who_enrolled_are_asked_too_and_remember_me_survives_the_step(app, client, make_user):
    member = make_user(Role.MEMBER, second_factor=True)
    response = password_step(client, member.phone)
    assert response.headers["Location"] == "/login/code"
    token = csrf_token(client, "/login")
    client.post("/login", data={"phone": member.phone, "password": PASSWORD, "csrf_token": token, "remember": "y"})
    assert client.get_cookie("remember_token") is None
    assert pass_second_factor(client, member.phone).headers["Location"] == "/member/card"  # a member lands on the card
    assert client.get_cookie("remember_token") is not None


def test_htmx_sign_in_is_sent_on_to_the_code_step(client, make_user):
    staff = make_user(Role.STAFF)
    token = csrf_token(client, "/login")
    response = client.post("/login", headers={"HX-Request": "true", "X-CSRFToken": token},
                           data={"phone": staff.phone, "password": PASSWORD})
    assert response.headers["HX-Redirect"] == "/login/code"


def test_an_expired_csrf_token_on_the_code_step_gives_the_form_back(app, client, make_user):
    staff = make_user(Role.STAFF)
    password_step(client, staff.phone)
    response = client.post("/login/code", data={"code": code_of(TOTP_SECRET), "csrf_token": "forged"})
    assert response.status_code == 400 and "为了您的安全" in response.get_data(as_text=True)
    assert sessions(app) == 0
    assert post(client, "/login/code", code=code_of(TOTP_SECRET)).status_code == 303


# ------------------------------------------------------------------------------------------- rate limits

def test_wrong_codes_are_limited_per_account(app, make_user):
    staff, colleague = make_user(Role.STAFF), make_user(Role.STAFF)
    allowed = int(app.config["SECOND_FACTOR_LIMIT_PER_ACCOUNT"].split()[0])
    client = app.test_client()
    password_step(client, staff.phone)
    for _ in range(allowed):
        assert post(client, "/login/code", code=code_of(TOTP_SECRET, 5)).status_code == 200
    blocked = post(client, "/login/code", code=code_of(TOTP_SECRET))  # even the right code, for a while
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"  # the account's limit holds from any address
    password_step(elsewhere, staff.phone)
    assert post(elsewhere, "/login/code", code=code_of(TOTP_SECRET)).status_code == 429
    other = app.test_client()
    assert login(other, colleague.phone).status_code == 303  # other accounts are not affected


def test_wrong_codes_are_limited_per_address(app, make_user):
    allowed = int(app.config["SECOND_FACTOR_LIMIT_PER_ADDRESS"].split()[0])
    accounts = [make_user(Role.STAFF) for _ in range(allowed // 4 + 1)]
    client, statuses = app.test_client(), []
    for staff in accounts:
        password_step(client, staff.phone)
        statuses += [post(client, "/login/code", code=code_of(TOTP_SECRET, 5)).status_code for _ in range(4)]
    assert statuses[:allowed] == [200] * allowed and statuses[allowed] == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert login(elsewhere, make_user(Role.STAFF).phone).status_code == 303


def test_successful_codes_are_not_counted(app, client, make_user, clock):
    staff = make_user(Role.STAFF)
    for _ in range(int(app.config["SECOND_FACTOR_LIMIT_PER_ACCOUNT"].split()[0]) + 2):
        clock.advance(seconds=30)
        assert login(client, staff.phone).status_code == 303
        client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/account")})


# ---------------------------------------------------------- changes that ask for the password and a code

@pytest.fixture
def signed_in(app, make_user):
    """A new client (in English) signed in as a new account of `role`; the client and the account."""

    def sign_in(role: Role = Role.STAFF):
        user = make_user(role)
        client = app.test_client()
        client.get("/?lang=en")
        assert login(client, user.phone).status_code == 303
        return client, user

    return sign_in


def current(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        db.session.remove()
        return user


def test_changing_the_password_asks_for_it_and_a_code_and_signs_out_elsewhere(app, signed_in):
    client, staff = signed_in()
    elsewhere = app.test_client()
    assert login(elsewhere, staff.phone).status_code == 303
    page = client.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page and 'name="code"' in page
    new = {"new_password": "Another-Horse-7", "confirm": "Another-Horse-7"}
    wrong = post(client, "/account/password", password="not-it", code=unused_code(app, staff.phone), **new)
    assert wrong.status_code == 200 and "This password is not right" in wrong.get_data(as_text=True)
    no_code = post(client, "/account/password", password=PASSWORD, code="", **new)
    assert no_code.status_code == 200 and "Enter the 6 digits" in no_code.get_data(as_text=True)
    mismatch = post(client, "/account/password", password=PASSWORD, code=unused_code(app, staff.phone),
                    new_password="Another-Horse-7", confirm="Another-Horse-8")
    assert "not the same" in mismatch.get_data(as_text=True)
    done = post(client, "/account/password", password=PASSWORD, code=unused_code(app, staff.phone), **new)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200 and "Your password is changed" in account.get_data(as_text=True)
    assert elsewhere.get("/account").status_code == 302


def test_changing_the_phone_number_asks_for_the_password_and_a_code(app, signed_in, make_user):
    client, staff = signed_in()
    taken = make_user(Role.MEMBER)
    refused = post(client, "/account/phone", password=PASSWORD, code=unused_code(app, staff.phone),
                   new_phone=taken.phone)
    assert refused.status_code == 200 and "already exists" in refused.get_data(as_text=True)
    no_code = post(client, "/account/phone", password=PASSWORD, code="", new_phone="13911112222")
    assert no_code.status_code == 200 and current(app, staff.id).phone == staff.phone
    done = post(client, "/account/phone", password=PASSWORD, code=unused_code(app, staff.phone),
                new_phone="139 1111 2222")
    assert done.status_code == 303 and current(app, staff.id).phone == "13911112222"


def test_setting_up_anew_asks_for_the_password_the_current_code_and_one_of_the_new_secret(app, signed_in):
    client, staff = signed_in()
    page = client.get("/account/second-factor/new")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"].endswith("no-store")
    secret = offered_secret(html)
    nonce = re.search(r'id="nonce" name="nonce" type="hidden" value="([^"]+)"', html).group(1)
    without = post(client, "/account/second-factor/new", nonce=nonce, password=PASSWORD, code="",
                   new_code=code_of(secret))
    assert without.status_code == 200 and current(app, staff.id).totp_secret == TOTP_SECRET
    assert offered_secret(without.get_data(as_text=True)) == secret  # the same QR code on the refused form
    done = post(client, "/account/second-factor/new", nonce=nonce, password=PASSWORD,
                code=unused_code(app, staff.phone), new_code=code_of(secret))
    assert done.status_code == 200 and len(recovery_codes(done.get_data(as_text=True))) == 10
    assert current(app, staff.id).totp_secret == secret
    forged = post(client, "/account/second-factor/new", nonce="../../x", password=PASSWORD, code="1", new_code="1")
    assert "This page had expired" in forged.get_data(as_text=True)


def test_new_recovery_codes_ask_for_the_password_and_a_code(app, signed_in):
    client, staff = signed_in(Role.ADMIN)
    refused = post(client, "/account/second-factor/recovery-codes", password="nope-nope", code="123456")
    assert refused.status_code == 200 and not recovery_codes(refused.get_data(as_text=True))
    done = post(client, "/account/second-factor/recovery-codes", password=PASSWORD,
                code=unused_code(app, staff.phone))
    assert done.headers["Cache-Control"].endswith("no-store") and len(recovery_codes(done.get_data(as_text=True))) == 10


def test_staff_cannot_turn_the_second_factor_off(app, signed_in):
    client, staff = signed_in()
    page = client.get("/account/second-factor/off").get_data(as_text=True)
    assert "must keep a second factor" in page and 'name="password"' not in page
    assert "Turn off" not in client.get("/account/second-factor").get_data(as_text=True)
    refused = post(client, "/account/second-factor/off", password=PASSWORD, code=unused_code(app, staff.phone))
    assert refused.status_code == 200 and current(app, staff.id).totp_secret == TOTP_SECRET


def test_a_member_may_enrol_from_the_account_page_and_turn_it_off_again(app, signed_in, clock):
    client, member = signed_in(Role.MEMBER)
    assert "Second factor: off" in client.get("/account").get_data(as_text=True)
    html = client.get("/account/second-factor/new").get_data(as_text=True)
    assert 'name="code"' not in html  # no current code to ask for yet
    secret = offered_secret(html)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', html).group(1)
    done = post(client, "/account/second-factor/new", nonce=nonce, password=PASSWORD, new_code=code_of(secret))
    assert len(recovery_codes(done.get_data(as_text=True))) == 10
    assert "Second factor: on" in client.get("/account").get_data(as_text=True)

    again = app.test_client()
    assert password_step(again, member.phone).headers["Location"] == "/login/code"  # now asked at sign-in
    assert pass_second_factor(again, member.phone, secret).status_code == 303

    clock.advance(seconds=30)  # the enrolment and the sign-in used this moment's codes
    off = post(client, "/account/second-factor/off", password=PASSWORD, code=unused_code(app, member.phone, secret))
    assert off.status_code == 303 and current(app, member.id).totp_secret is None
    assert password_step(app.test_client(), member.phone).headers["Location"] == "/member/card"


# ------------------------------------------------------------------------------------------ administrators

def test_an_administrator_resets_a_staff_member_s_second_factor_on_a_page(app, signed_in):
    admin_client, admin = signed_in(Role.ADMIN)
    staff_client, staff = signed_in()
    assert staff_client.get("/account/second-factor/resets").status_code == 403
    page = admin_client.get("/account/second-factor/resets").get_data(as_text=True)
    assert "No second factor has been reset yet" in page
    unknown = post(admin_client, "/account/second-factor/resets", phone="13999999999")
    assert unknown.status_code == 200 and "No account has this mobile number" in unknown.get_data(as_text=True)

    done = post(admin_client, "/account/second-factor/resets", phone=staff.phone)
    assert done.status_code == 303 and done.headers["Location"] == "/account/second-factor/resets"
    listed = admin_client.get("/account/second-factor/resets").get_data(as_text=True)
    assert staff.phone[-4:] in listed and staff.phone not in listed and "Reset by" in listed
    with app.app_context():
        event = db.session.scalars(select(SecondFactorEvent)
                                   .where(SecondFactorEvent.change == SecondFactorChange.RESET)).one()
        assert (event.user_id, event.actor_id, event.at) == (staff.id, admin.id, NOW)
        db.session.remove()
    assert staff_client.get("/staff/").status_code == 302  # signed out everywhere
    assert password_step(app.test_client(), staff.phone).headers["Location"] == "/login/enrol"
    again = post(admin_client, "/account/second-factor/resets", phone=staff.phone)
    assert "no second factor to reset" in again.get_data(as_text=True)


def test_the_account_page_links_to_the_security_settings(app, signed_in):
    client, _ = signed_in(Role.ADMIN)
    html = client.get("/account").get_data(as_text=True)
    for path in ("/account/second-factor", "/account/password", "/account/phone", "/account/second-factor/resets"):
        assert f'href="{path}"' in html
    staff_client, _ = signed_in()
    assert "/account/second-factor/resets" not in staff_client.get("/account").get_data(as_text=True)
    manage = staff_client.get("/account/second-factor").get_data(as_text=True)
    assert "Recovery codes left" in manage and "/account/second-factor/new" in manage


# ----------------------------------------------------------------------------------------------- the log

def test_failed_sign_ins_and_refused_accesses_are_logged_without_phone_numbers(app, make_user, caplog):
    staff = make_user(Role.STAFF, name="王小明")
    member = make_user(Role.MEMBER, name="李师傅")
    with caplog.at_level(logging.INFO, logger="portal"):
        client = app.test_client()
        password_step(client, staff.phone, "wrong-password")
        password_step(client, "13999999999", "wrong-password")  # no such account
        password_step(client, staff.phone)
        post(client, "/login/code", code=code_of(TOTP_SECRET, 4))
        post(client, "/login/code?recovery=1", code="AAAAA-BBBBB")
        assert post(client, "/login/code", code=code_of(TOTP_SECRET)).status_code == 303
        post(client, "/account/password", password="wrong-password", code="", new_password="Another-Horse-7",
             confirm="Another-Horse-7")
        member_client = app.test_client()
        login(member_client, member.phone)
        assert member_client.get("/staff/").status_code == 403
        assert app.test_client().get("/staff/").status_code == 302
    lines = [r.getMessage() for r in caplog.records]
    failed = [m for m in lines if m.startswith(("login failed", "second factor failed", "recovery code refused",
                                                "reauthentication failed", "access refused"))]
    assert any(m.startswith(f"login failed user={staff.id} endpoint=accounts.login request_id=") for m in failed)
    assert any(m.startswith("login failed user=- endpoint=accounts.login") for m in failed)
    assert any(m.startswith(f"second factor failed user={staff.id} endpoint=accounts.second_step request_id=")
               and "reason=wrong code" in m for m in failed)
    assert any(m.startswith(f"recovery code refused user={staff.id} endpoint=accounts.second_step") for m in failed)
    assert any(m.startswith(f"reauthentication failed user={staff.id} endpoint=accounts.change_password")
               for m in failed)
    assert any(m.startswith(f"access refused status=403 user={member.id} endpoint=staff.index path=/staff/ "
                            "request_id=") for m in failed)
    assert any(m.startswith("access refused status=401 user=- endpoint=staff.index") for m in failed)
    assert all(re.search(r"request_id=[0-9a-f]{16}", m) for m in failed) and len(failed) >= 7
    for secret in (staff.phone, member.phone, "13999999999", "王小明", "李师傅", PASSWORD, "wrong-password",
                   TOTP_SECRET, "AAAAA"):
        assert secret not in caplog.text
    levels = {r.getMessage().split(" user=")[0]: r.levelno for r in caplog.records}
    assert levels["second factor failed"] == logging.WARNING and levels["login failed"] == logging.INFO
