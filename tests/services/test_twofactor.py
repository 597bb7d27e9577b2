"""The second factor's rules, called directly at fixed times: RFC 6238 codes and their window, a code accepted
once, recovery codes hashed and single-use, enrolment, the half-done sign-in, and administrators' resets."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.exceptions import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from portal.extensions import db
from portal.models import LoginSession, RecoveryCode, Role, SecondFactorChange, SecondFactorEvent, User
from portal.services import twofactor, users
from tests import factories
from tests.factories import NOW, PASSWORD, TOTP_SECRET, totp

STEP = timedelta(seconds=twofactor.STEP_SECONDS)


def _staff(**fields) -> User:
    return factories.user(Role.STAFF, **fields)


def _fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


# ------------------------------------------------------------------------------------------------ codes

def test_codes_are_rfc_6238_with_six_digits_and_thirty_second_steps():
    # RFC 6238, appendix B: the SHA-1 key "12345678901234567890"; its 8-digit codes end in these 6 digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert twofactor.code_at(secret, datetime.fromtimestamp(59, UTC)) == "287082"
    assert twofactor.code_at(secret, datetime.fromtimestamp(1111111109, UTC)) == "081804"
    assert twofactor.code_at(secret, datetime.fromtimestamp(1234567890, UTC)) == "005924"
    assert twofactor.code_at(TOTP_SECRET, NOW) == pyotp.TOTP(TOTP_SECRET).at(NOW)
    assert twofactor.step_at(NOW) == int(NOW.timestamp()) // 30
    assert twofactor.step_at(NOW + STEP) == twofactor.step_at(NOW) + 1


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_one_step_either_side_of_now_is_accepted(steps, accepted):
    code = totp(NOW, steps)
    found = twofactor.matching_step(TOTP_SECRET, code, NOW)
    assert (found == twofactor.step_at(NOW) + steps) if accepted else found is None


def test_a_code_is_accepted_once_and_never_an_earlier_one_after_it(ctx):
    user = _staff()
    assert twofactor.consume(user, totp(NOW), NOW) is twofactor.Method.TOTP
    db.session.commit()
    assert _fresh(user.id).totp_last_step == twofactor.step_at(NOW)
    for code in (totp(NOW), totp(NOW, -1)):  # the same code again, and the step before it, still in the window
        with pytest.raises(AuthenticationFailed) as refused:
            twofactor.consume(_fresh(user.id), code, NOW + timedelta(seconds=5))
        assert refused.value.fields == {"code": twofactor.CODE_USED} and refused.value.reason == "code replayed"
    assert twofactor.consume(_fresh(user.id), totp(NOW, 1), NOW + timedelta(seconds=5)) is twofactor.Method.TOTP
    db.session.commit()
    assert _fresh(user.id).totp_last_step == twofactor.step_at(NOW) + 1


def test_a_wrong_code_is_refused_and_writes_nothing(ctx):
    user = _staff()
    for code in (totp(NOW, 2), "000000" if totp(NOW) != "000000" else "111111", "12345", "", "abcdef"):
        with pytest.raises(AuthenticationFailed) as refused:
            twofactor.consume(_fresh(user.id), code, NOW)
        assert set(refused.value.fields) == {"code"} and refused.value.account_id == user.id
    assert _fresh(user.id).totp_last_step is None


def test_spaces_in_a_typed_code_do_not_matter(ctx):
    user = _staff()
    code = totp(NOW)
    assert twofactor.consume(user, f" {code[:3]} {code[3:]} ", NOW) is twofactor.Method.TOTP


def test_a_code_raced_by_many_requests_is_accepted_once(app):
    with app.app_context():
        user_id = _staff().id
        db.session.remove()
    code = totp(NOW)
    results = factories.at_once(app, 8, lambda _: users.second_step(user_id, code, NOW))
    results = [r.reason if isinstance(r, AuthenticationFailed) else r for r in results]
    assert sorted(map(str, results)) == ["code replayed"] * 7 + ["totp"]


# -------------------------------------------------------------------------------------- recovery codes

def test_ten_recovery_codes_are_stored_only_as_hashes(ctx):
    user = _staff(second_factor=False)
    codes = factories.enrol(user)
    assert len(codes) == len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" and set(c.replace("-", "")) <= set(twofactor.RECOVERY_ALPHABET)
               for c in codes)
    rows = db.session.execute(select(RecoveryCode.__table__)).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 10 and not any(c.replace("-", "") in stored or c in stored for c in codes)
    assert twofactor.recovery_codes_left(user.id) == 10


def test_a_recovery_code_works_once_typed_any_way(ctx):
    user = _staff(second_factor=False)
    codes = factories.enrol(user)
    typed = codes[0].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert twofactor.consume(_fresh(user.id), typed, NOW) is twofactor.Method.RECOVERY
    db.session.commit()
    with pytest.raises(AuthenticationFailed) as refused:
        twofactor.consume(_fresh(user.id), codes[0], NOW + timedelta(minutes=1))
    assert refused.value.reason == "recovery code refused"
    assert twofactor.recovery_codes_left(user.id) == 9
    assert db.session.scalar(select(RecoveryCode.used_at).where(RecoveryCode.used_at.is_not(None))) == NOW


def test_recovery_codes_are_the_account_s_own_and_new_ones_replace_the_old(ctx):
    mine, theirs = _staff(second_factor=False), _staff(second_factor=False)
    my_codes, their_codes = factories.enrol(mine), factories.enrol(theirs)
    with pytest.raises(AuthenticationFailed):
        twofactor.consume(_fresh(mine.id), their_codes[0], NOW)
    renewed = twofactor.issue_recovery_codes(_fresh(mine.id), NOW)
    db.session.commit()
    assert not set(renewed) & set(my_codes)
    with pytest.raises(AuthenticationFailed):
        twofactor.consume(_fresh(mine.id), my_codes[1], NOW)
    assert twofactor.consume(_fresh(mine.id), renewed[1], NOW) is twofactor.Method.RECOVERY


# ------------------------------------------------------------------------------------------- enrolment

def test_the_offered_secret_depends_on_the_account_the_nonce_and_the_key(ctx):
    nonce = twofactor.new_nonce()
    secret = twofactor.candidate_secret(1, nonce)
    assert len(secret) == 32 and secret == twofactor.candidate_secret(1, nonce)  # 160 bits, base32
    assert secret not in {twofactor.candidate_secret(2, nonce), twofactor.candidate_secret(1, twofactor.new_nonce())}
    user = _staff(second_factor=False)
    setup = twofactor.enrolment(user, nonce)
    assert setup.secret == twofactor.candidate_secret(user.id, nonce) and "".join(setup.groups) == setup.secret
    assert setup.uri.startswith("otpauth://totp/%E8%81%8C%E5%B7%A5%E6%9C%8D%E5%8A%A1%E9%97%A8%E6%88%B7:")
    assert user.phone not in setup.uri and f"secret={setup.secret}" in setup.uri
    parsed = pyotp.parse_uri(setup.uri)
    assert parsed.issuer == "职工服务门户" and parsed.secret == setup.secret and parsed.interval == 30
    assert parsed.digits == 6 and '<svg class="qr" role="img"' in setup.qr("二维码")


def test_enrolment_needs_a_code_of_the_offered_secret_which_then_counts_as_used(ctx):
    user = _staff(second_factor=False)
    nonce = twofactor.new_nonce()
    secret = twofactor.candidate_secret(user.id, nonce)
    with pytest.raises(AuthenticationFailed):
        users.enrol_at_sign_in(user.id, nonce, totp(NOW, secret=TOTP_SECRET), NOW)
    assert _fresh(user.id).totp_secret is None and twofactor.recovery_codes_left(user.id) == 0
    codes = users.enrol_at_sign_in(user.id, nonce, totp(NOW, secret=secret), NOW)
    user = _fresh(user.id)
    assert user.totp_secret == secret and user.totp_enrolled_at == NOW and len(codes) == 10
    with pytest.raises(AuthenticationFailed) as replayed:
        users.second_step(user.id, totp(NOW, secret=secret), NOW + timedelta(seconds=10))
    assert replayed.value.reason == "code replayed"
    with pytest.raises(Conflict):  # once is enough: a second enrolment at sign-in is refused
        users.enrol_at_sign_in(user.id, nonce, totp(NOW, 1, secret=secret), NOW)
    events = db.session.scalars(select(SecondFactorEvent)).all()
    assert [(e.change, e.user_id, e.actor_id, e.at) for e in events] == [
        (SecondFactorChange.ENROLLED, user.id, user.id, NOW)]


def test_staff_and_administrators_must_have_a_second_factor_others_may():
    for role in Role:
        account = User(role=role, totp_secret=None)
        assert twofactor.required_for(account) is (role in {Role.STAFF, Role.ADMIN})
        assert twofactor.asks_for(account) is twofactor.required_for(account)
        assert twofactor.asks_for(User(role=role, totp_secret=TOTP_SECRET))


def test_a_staff_session_needs_a_second_factor(ctx):
    user = _staff()
    token = users.start_session(user, NOW)
    assert users.resume_session(token, NOW) is not None
    user = _fresh(user.id)
    user.totp_secret = None  # as before the second factor existed
    db.session.commit()
    assert users.resume_session(token, NOW) is None


# ------------------------------------------------------------------------------------- the half-done sign-in

def test_a_half_done_sign_in_lasts_a_few_minutes(ctx, app):
    user = _staff()
    token = twofactor.pending_sign_in(user, NOW, remember=True, target="/staff/")
    pending = twofactor.resume_sign_in(token, NOW + timedelta(seconds=299))
    assert pending.user.id == user.id and pending.remember and pending.target == "/staff/" and pending.nonce
    limit = app.config["SECOND_FACTOR_PENDING_SECONDS"]
    assert twofactor.resume_sign_in(token, NOW + timedelta(seconds=limit + 1)) is None
    assert twofactor.resume_sign_in(token[:-2] + "xx", NOW) is None
    assert twofactor.resume_sign_in(None, NOW) is None and twofactor.resume_sign_in("garbage", NOW) is None
    assert TOTP_SECRET not in token and user.phone not in token


def test_a_half_done_sign_in_ends_when_the_password_or_the_account_changes(ctx):
    first, second = _staff(), _staff()
    tokens = [twofactor.pending_sign_in(u, NOW) for u in (first, second)]
    users.change_password(first.id, password=PASSWORD, code=totp(NOW), new_password="Another-Horse-7", now=NOW)
    users.set_active(second.id, False, NOW)
    assert [twofactor.resume_sign_in(t, NOW) for t in tokens] == [None, None]


# --------------------------------------------------------------------------------------- administrators

def test_a_reset_is_recorded_with_who_whom_and_when_and_ends_the_sessions(ctx):
    admin, staff = factories.user(Role.ADMIN), _staff()
    tokens = [users.start_session(_fresh(staff.id), NOW) for _ in range(2)]
    later = NOW + timedelta(hours=1)
    reset = users.reset_second_factor(f"+86 {staff.phone}", _fresh(admin.id), later)
    assert reset.id == staff.id
    staff = _fresh(staff.id)
    assert staff.totp_secret is None and staff.totp_last_step is None and staff.totp_enrolled_at is None
    assert twofactor.recovery_codes_left(staff.id) == 0
    event = db.session.scalars(select(SecondFactorEvent)
                               .where(SecondFactorEvent.change == SecondFactorChange.RESET)).one()
    assert (event.user_id, event.actor_id, event.at) == (staff.id, admin.id, later)
    assert [e.id for e in twofactor.recent_changes(SecondFactorChange.RESET)] == [event.id]
    assert db.session.scalars(select(LoginSession.revoked_at)).all() == [later, later]
    assert all(users.resume_session(t, later) is None for t in tokens)
    with pytest.raises(Conflict):  # nothing left to reset
        users.reset_second_factor(staff.phone, _fresh(admin.id), later)


def test_only_an_active_administrator_resets_and_only_an_existing_account(ctx):
    admin, staff, other = factories.user(Role.ADMIN), _staff(), _staff()
    with pytest.raises(PermissionDenied):
        users.reset_second_factor(staff.phone, _fresh(other.id), NOW)
    with pytest.raises(InvalidInput) as unknown:
        users.reset_second_factor("13999999999", _fresh(admin.id), NOW)
    assert "phone" in unknown.value.fields
    users.set_active(admin.id, False, NOW)
    with pytest.raises(PermissionDenied):
        users.reset_second_factor(staff.phone, _fresh(admin.id), NOW)
    assert _fresh(staff.id).totp_secret == TOTP_SECRET
    assert db.session.scalars(select(SecondFactorEvent.change)).all() == [SecondFactorChange.ENROLLED] * 3


def test_a_disabled_account_cannot_finish_signing_in(ctx):
    user = _staff()
    users.set_active(user.id, False, NOW)
    with pytest.raises(NotFound):
        users.second_step(user.id, totp(NOW), NOW)
