from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import passwords
from portal.exceptions import AuthenticationFailed, InvalidInput
from portal.extensions import db
from portal.models import LoginSession, Role, User
from portal.services import users
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
