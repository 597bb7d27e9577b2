from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import passwords
from portal.exceptions import AuthenticationFailed, Conflict, InvalidInput, PermissionDenied
from portal.extensions import db
from portal.models import LoginSession, Role, SecondFactorChange, SecondFactorEvent, User
from portal.services import twofactor, users
from tests import factories
from tests.conftest import NOW, PASSWORD


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678",
                                 "0086 138 1234 5678"])
def test_mainland_mobiles_are_normalised(raw):
    assert users.normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "020-12345678", "abc",
                                 "１３８１２３４５６７８"])
def test_other_numbers_are_refused(raw):
    with pytest.raises(InvalidInput) as error:
        users.normalise_phone(raw)
    assert "phone" in error.value.fields


@pytest.mark.parametrize(("password", "ok"), [
    ("Short7!", False), ("abcdwxyz", True), ("x1y" * 21 + "z", True), ("alllowercaseletters", True),
    ("password123", False), ("woaini1314", False), ("aaaaaaaaaa", False), ("y" * 1024 + "", False),
    ("Zq8" + "z" * 1021, True), ("Zq8" + "z" * 1022, False),
])
def test_password_policy(password, ok):
    assert (users.password_problem(password) is None) is ok


def test_passwords_are_stored_with_a_memory_hard_salted_hash(ctx, make_user):
    a, b = make_user(password=PASSWORD), make_user(password=PASSWORD)
    hashes = db.session.scalars(select(User.password_hash).where(User.id.in_([a.id, b.id]))).all()
    assert all(h.startswith("scrypt:") for h in hashes)
    assert hashes[0] != hashes[1]
    assert PASSWORD not in "".join(hashes)


def test_staff_need_a_known_region(ctx):
    with pytest.raises(InvalidInput) as error:
        users.create_user(phone="13800000001", password=PASSWORD, role=Role.STAFF, now=NOW)
    assert "region" in error.value.fields
    with pytest.raises(InvalidInput):
        users.create_user(phone="13800000001", password=PASSWORD, role=Role.STAFF, region_code="4499", now=NOW)
    user = users.create_user(phone="13800000001", password=PASSWORD, role=Role.STAFF, region_code="4401",
                             now=NOW)
    assert user.region.name == "广州市"


def test_one_account_per_phone(ctx, make_user):
    make_user(phone="13800000001")
    with pytest.raises(InvalidInput) as error:
        users.create_user(phone="138 0000 0001", password=PASSWORD, role=Role.MEMBER, now=NOW)
    assert "phone" in error.value.fields


def test_authenticate(ctx, make_user):
    user = make_user(phone="13800000001")
    assert users.authenticate("+86 138 0000 0001", PASSWORD, NOW).id == user.id
    for phone, password in [("13800000001", PASSWORD + " "), ("13800000002", PASSWORD), ("bad", PASSWORD)]:
        with pytest.raises(AuthenticationFailed):
            users.authenticate(phone, password, NOW)


def test_over_long_passwords_are_refused_before_hashing(ctx, make_user, monkeypatch):
    make_user(phone="13800000001")
    monkeypatch.setattr(passwords, "matches", lambda *a: pytest.fail("hashed a 1,025-char password"))
    with pytest.raises(AuthenticationFailed):
        users.authenticate("13800000001", "x" * 1025, NOW)


def test_disabled_accounts_cannot_sign_in(ctx, make_user):
    user = make_user(phone="13800000001")
    users.set_active(user.id, False, NOW)
    with pytest.raises(AuthenticationFailed):
        users.authenticate("13800000001", PASSWORD, NOW)


def _user(user_id):
    return db.session.get(User, user_id)


def test_a_session_lives_until_revoked(ctx, make_user):
    user = make_user()
    token = users.start_session(_user(user.id), NOW)
    assert users.resume_session(token, NOW + timedelta(minutes=1)).id == user.id
    users.end_session(token, NOW + timedelta(minutes=2))
    assert users.resume_session(token, NOW + timedelta(minutes=3)) is None
    assert users.resume_session("not-a-token", NOW) is None


def test_sessions_end_after_idle_time_and_absolute_lifetime(ctx, app, make_user):
    user = _user(make_user().id)
    idle, absolute = app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_ABSOLUTE_LIFETIME"]
    token = users.start_session(user, NOW)
    assert users.resume_session(token, NOW + idle - timedelta(seconds=1)) is not None
    token = users.start_session(user, NOW)
    assert users.resume_session(token, NOW + idle) is None
    # Activity keeps a session alive, but never past its absolute lifetime.
    token = users.start_session(user, NOW)
    step = NOW
    while step + idle / 2 < NOW + absolute:
        step += idle / 2
        assert users.resume_session(token, step) is not None  # records the activity
    assert users.resume_session(token, NOW + absolute) is None


def test_remembered_sessions_skip_the_idle_limit_but_staff_cannot_remember(ctx, app, make_user):
    member_id, staff_id = make_user(Role.MEMBER).id, make_user(Role.STAFF).id
    member = _user(member_id)
    token = users.start_session(member, NOW, remember=True)
    assert users.resume_session(token, NOW + timedelta(days=13)) is not None
    assert users.resume_session(token, NOW + app.config["REMEMBER_COOKIE_DURATION"]) is None
    token = users.start_session(_user(staff_id), NOW, remember=True)
    assert users.resume_session(token, NOW + timedelta(days=1)) is None


def test_activity_is_recorded_at_most_every_five_minutes(ctx, make_user):
    token = users.start_session(_user(make_user().id), NOW)
    last_seen = lambda: db.session.scalar(select(LoginSession.last_seen_at))  # noqa: E731
    users.resume_session(token, NOW + timedelta(minutes=4))
    assert last_seen() == NOW
    users.resume_session(token, NOW + timedelta(minutes=6))
    db.session.expire_all()
    assert last_seen() == NOW + timedelta(minutes=6)


def test_disabling_a_user_ends_every_session(ctx, make_user):
    user = _user(make_user().id)
    tokens = [users.start_session(user, NOW) for _ in range(3)]
    users.set_active(user.id, False, NOW)
    assert all(users.resume_session(t, NOW) is None for t in tokens)


def test_only_a_hash_of_the_token_is_stored(ctx, make_user):
    token = users.start_session(_user(make_user().id), NOW)
    stored = db.session.scalar(select(LoginSession.token_hash))
    assert token not in stored and len(stored) == 64


# ------------------------------------------------------------- changes that ask for the password (and a code)

def _totp(steps: int = 0) -> str:
    return factories.totp(NOW, steps)


def test_a_new_password_needs_the_old_one_and_a_code_and_ends_the_other_sessions(ctx, make_user):
    user = make_user(Role.STAFF)
    here, elsewhere = (users.start_session(_user(user.id), NOW) for _ in range(2))
    with pytest.raises(AuthenticationFailed) as wrong:
        users.change_password(user.id, password="not-it", code=_totp(), new_password="Another-Horse-7", now=NOW)
    assert wrong.value.fields == {"password": users.WRONG_PASSWORD}
    with pytest.raises(AuthenticationFailed) as no_code:
        users.change_password(user.id, password=PASSWORD, code="", new_password="Another-Horse-7", now=NOW)
    assert set(no_code.value.fields) == {"code"}
    with pytest.raises(InvalidInput) as weak:
        users.change_password(user.id, password=PASSWORD, code=_totp(), new_password="password123", now=NOW)
    assert set(weak.value.fields) == {"new_password"}
    assert _user(user.id).totp_last_step is None  # no refusal spent the code
    users.change_password(user.id, password=PASSWORD, code=_totp(), new_password="Another-Horse-7", now=NOW,
                          keep=here)
    assert users.authenticate(user.phone, "Another-Horse-7", NOW).id == user.id
    assert users.resume_session(here, NOW) is not None and users.resume_session(elsewhere, NOW) is None
    with pytest.raises(AuthenticationFailed):  # the code was spent
        users.change_password(user.id, password="Another-Horse-7", code=_totp(), new_password="Third-Horse-5",
                              now=NOW)


def test_without_a_second_factor_the_password_alone_is_asked(ctx, make_user):
    user = make_user(Role.MEMBER)
    users.change_password(user.id, password=PASSWORD, code=None, new_password="Another-Horse-7", now=NOW)
    assert users.authenticate(user.phone, "Another-Horse-7", NOW).id == user.id


def test_a_new_phone_number_is_checked_and_needs_the_password_and_a_code(ctx, make_user):
    user, other = make_user(Role.STAFF), make_user(Role.MEMBER)
    for taken in (other.phone, user.phone):
        with pytest.raises(InvalidInput) as refused:
            users.change_phone(user.id, password=PASSWORD, code=_totp(), new_phone=taken, now=NOW)
        assert set(refused.value.fields) == {"new_phone"}
    with pytest.raises(InvalidInput):
        users.change_phone(user.id, password=PASSWORD, code=_totp(), new_phone="12345", now=NOW)
    with pytest.raises(AuthenticationFailed):
        users.change_phone(user.id, password=PASSWORD, code=_totp(2), new_phone="139 1111 2222", now=NOW)
    assert _user(user.id).phone == user.phone
    users.change_phone(user.id, password=PASSWORD, code=_totp(), new_phone="139 1111 2222", now=NOW)
    assert _user(user.id).phone == "13911112222"
    assert users.authenticate("13911112222", PASSWORD, NOW).id == user.id


def test_setting_up_anew_needs_the_current_code_and_retires_the_old_secret(ctx, make_user):
    user = make_user(Role.STAFF)
    old_codes_session = users.start_session(_user(user.id), NOW)
    nonce = twofactor.new_nonce()
    new_secret = twofactor.candidate_secret(user.id, nonce)
    new_code = factories.totp(NOW, secret=new_secret)
    with pytest.raises(AuthenticationFailed) as no_current:
        users.enrol_second_factor(user.id, password=PASSWORD, code=None, nonce=nonce, new_code=new_code, now=NOW)
    assert set(no_current.value.fields) == {"code"}
    with pytest.raises(AuthenticationFailed) as wrong_new:
        users.enrol_second_factor(user.id, password=PASSWORD, code=_totp(), nonce=nonce, new_code=_totp(), now=NOW)
    assert set(wrong_new.value.fields) == {"new_code"}
    assert _user(user.id).totp_last_step is None  # the refusal spent nothing
    codes = users.enrol_second_factor(user.id, password=PASSWORD, code=_totp(), nonce=nonce, new_code=new_code,
                                      now=NOW)
    assert len(codes) == 10 and _user(user.id).totp_secret == new_secret
    assert users.resume_session(old_codes_session, NOW) is None  # every other session ends
    with pytest.raises(AuthenticationFailed):
        users.second_step(user.id, _totp(1), NOW)  # the old app's codes no longer work
    assert users.second_step(user.id, factories.totp(NOW, 1, secret=new_secret), NOW) is twofactor.Method.TOTP


def test_members_may_turn_the_second_factor_off_staff_may_not(ctx, make_user):
    member, staff = make_user(Role.MEMBER, second_factor=True), make_user(Role.STAFF)
    with pytest.raises(PermissionDenied):
        users.turn_off_second_factor(staff.id, password=PASSWORD, code=_totp(), now=NOW)
    users.turn_off_second_factor(member.id, password=PASSWORD, code=_totp(), now=NOW)
    assert _user(member.id).totp_secret is None and twofactor.recovery_codes_left(member.id) == 0
    with pytest.raises(Conflict):
        users.turn_off_second_factor(member.id, password=PASSWORD, code=None, now=NOW)
    changes = db.session.scalars(select(SecondFactorEvent.change).where(SecondFactorEvent.user_id == member.id))
    assert list(changes) == [SecondFactorChange.ENROLLED, SecondFactorChange.TURNED_OFF]


def test_new_recovery_codes_need_the_password_and_a_code(ctx, make_user):
    user = make_user(Role.ADMIN)
    with pytest.raises(AuthenticationFailed):
        users.renew_recovery_codes(user.id, password=PASSWORD, code="WRONG-CODE1", now=NOW)
    codes = users.renew_recovery_codes(user.id, password=PASSWORD, code=_totp(), now=NOW)
    assert len(codes) == 10 and twofactor.recovery_codes_left(user.id) == 10
    assert users.second_step(user.id, codes[0], NOW) is twofactor.Method.RECOVERY
    with pytest.raises(Conflict):
        users.renew_recovery_codes(make_user(Role.MEMBER).id, password=PASSWORD, code=None, now=NOW)
