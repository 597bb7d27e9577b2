"""Accounts, passwords and server-side login sessions.

A login creates a LoginSession row; the browser holds only a random token whose SHA-256 is stored. Logout
revokes the row, so a cookie copied before logout stops working (Flask's signed-cookie session alone
would keep working). Disabling a user ends all of their sessions the same way.

The changes that would hand an account to someone else (its phone number, its password, its second factor) ask
for the password again and, for an account with a second factor, a current code, in the same transaction as the
change (portal.services.twofactor holds the codes' rules).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from portal import passwords
from portal.database import begin_write, command
from portal.exceptions import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import LoginSession, Region, Role, SecondFactorChange, User
from portal.services import twofactor
from portal.settings import setting

MAX_PASSWORD_LENGTH = 1024  # refused before hashing: a megabyte password would tie a worker up in scrypt
MIN_PASSWORD_LENGTH = 8
# Passwords seen most often in Chinese and international breach lists; refused at sign-up.
COMMON_PASSWORDS = frozenset({
    "12345678", "123456789", "1234567890", "11111111", "88888888", "66666666", "00000000", "12341234",
    "87654321", "11223344", "password", "password1", "password123", "passw0rd", "qwertyui", "qwerty123",
    "abc12345", "abcd1234", "a1234567", "aa123456", "iloveyou", "5201314520", "woaini1314", "woaini520",
    "qq123456", "1qaz2wsx", "1q2w3e4r", "zxcvbnm1", "asdfghjk", "admin123", "admin888", "welcome1",
    "sunshine", "12qwaszx",
})
MOBILE = re.compile(r"1[3-9]\d{9}")
# Roles whose sessions may be remembered for two weeks; staff and admins sign in for one shift at a time.
REMEMBERABLE = frozenset({Role.MEMBER, Role.STATION_MANAGER, Role.MERCHANT})
TOUCH_EVERY = timedelta(minutes=5)


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits; accepts spaces, dashes and a +86 / 0086 prefix."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    if not MOBILE.fullmatch(digits):
        raise InvalidInput(fields={"phone": _l("Enter an 11-digit mainland mobile number.")})
    return digits


def password_problem(password: str):
    """Why a new password is refused, or None. Spaces are kept: they are part of the password."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("Use at most %(num)d characters.", num=MAX_PASSWORD_LENGTH)
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        return _l("This password is too easy to guess.")
    return None


def hash_password(password: str) -> str:
    return passwords.hash_password(password, setting("PASSWORD_HASH_METHOD"))


@command
def create_user(
    *, phone: str, password: str, role: Role | str, now: datetime,
    region_code: str | None = None, name: str = "",
) -> User:
    user = add_user(phone=phone, password=password, role=role, now=now, region_code=region_code, name=name)
    db.session.commit()
    return user


def add_user(
    *, phone: str, password: str, role: Role | str, now: datetime,
    region_code: str | None = None, name: str = "",
) -> User:
    """A new account in the caller's write transaction. Staff act for one union, so they must be bound to a
    region; other roles may carry one."""
    phone = normalise_phone(phone)
    role = Role(role)
    if problem := password_problem(password):
        raise InvalidInput(fields={"password": problem})
    if role is Role.STAFF and not region_code:
        raise InvalidInput(fields={"region": _l("Union staff must be bound to a region.")})
    if region_code and db.session.get(Region, region_code) is None:
        raise InvalidInput(fields={"region": _l("Unknown region code %(code)s.", code=region_code)})
    if db.session.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise InvalidInput(fields={"phone": _l("An account with this mobile number already exists.")})
    user = User(phone=phone, password_hash=hash_password(password), role=role, region_code=region_code,
                name=name.strip()[:64], active=True, created_at=now)
    db.session.add(user)
    db.session.flush()
    return user


def find_user(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def authenticate(phone: str, password: str, now: datetime) -> User:
    """The active user with this phone and password; every failure looks the same to the caller."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthenticationFailed()
    try:
        user = find_user(normalise_phone(phone))
    except InvalidInput:
        user = None
    # Hash even for an unknown number, so timing does not reveal which numbers have accounts.
    stored = user.password_hash if user else _dummy_hash()
    if not passwords.matches(stored, password) or user is None or not user.active:
        error = AuthenticationFailed()
        error.account_id, error.reason = (user.id if user else None), "wrong password"  # for the log only
        raise error
    begin_write()  # only now: the hash above takes tens of milliseconds and needs no lock
    user.last_login_at = now
    db.session.commit()
    return user


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    method = setting("PASSWORD_HASH_METHOD")
    if method not in _DUMMY:
        _DUMMY[method] = passwords.hash_password(secrets.token_hex(16), method)
    return _DUMMY[method]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@command
def start_session(user: User, now: datetime, remember: bool = False) -> str:
    """Open a login session and return its token for the browser to hold."""
    remember = remember and user.role in REMEMBERABLE
    lifetime = (setting("REMEMBER_COOKIE_DURATION") if remember
                else setting("SESSION_ABSOLUTE_LIFETIME"))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_digest(token), remember=remember,
                                created_at=now, last_seen_at=now, expires_at=now + lifetime))
    db.session.commit()
    user.session_token = token
    return token


def resume_session(token: str, now: datetime) -> User | None:
    """The user behind a token if its session is live (not revoked, expired or idle too long).

    Activity is recorded at most every TOUCH_EVERY, in the caller's session and committed at once. It is
    best effort: SQLite refuses to upgrade a read transaction that another writer overtook, and then the
    next request records the activity instead.
    """
    if not token or len(token) > 100:
        return None
    login = db.session.scalar(select(LoginSession).options(joinedload(LoginSession.user))
                              .where(LoginSession.token_hash == _digest(token)))
    if login is None or login.revoked_at is not None or now >= login.expires_at:
        return None
    if not login.remember and now - login.last_seen_at >= setting("SESSION_IDLE_TIMEOUT"):
        return None
    if not login.user.active:
        return None
    if twofactor.required_for(login.user) and not twofactor.enrolled(login.user):
        return None  # a session from before the second factor, or one an administrator's reset left behind
    if now - login.last_seen_at >= TOUCH_EVERY:
        login.last_seen_at = now
        try:
            db.session.commit()
        except OperationalError:
            db.session.rollback()
    user = login.user
    user.session_token = token
    return user


@command
def end_session(token: str, now: datetime) -> None:
    db.session.execute(update(LoginSession).where(LoginSession.token_hash == _digest(token),
                                                  LoginSession.revoked_at.is_(None)).values(revoked_at=now))
    db.session.commit()


def _end_sessions(user_id: int, now: datetime, keep: str | None = None) -> None:
    """Revoke the account's live sessions (all but the one whose token is `keep`), in the caller's transaction."""
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if keep:
        query = query.where(LoginSession.token_hash != _digest(keep))
    db.session.execute(query.values(revoked_at=now))


@command
def set_active(user_id: int, active: bool, now: datetime) -> User:
    """Enable or disable an account; disabling ends every session it has."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.active = active
    if not active:
        _end_sessions(user_id, now)
    db.session.commit()
    return user


# ------------------------------------------------------------------------- the second step of a sign-in

@command
def second_step(user_id: int, code: str, now: datetime) -> twofactor.Method:
    """Accept the code (or a recovery code) that completes a sign-in whose password was accepted."""
    user = _account(user_id)
    method = twofactor.consume(user, code, now)
    user.last_login_at = now
    db.session.commit()
    return method


@command
def enrol_at_sign_in(user_id: int, nonce: str, code: str, now: datetime) -> list[str]:
    """First sign-in of an account that must have a second factor: the secret its page offered, confirmed by a
    code; returns the recovery codes, to be shown once."""
    user = _account(user_id)
    if twofactor.enrolled(user):
        raise Conflict(_l("A second factor is already set up for this account. Sign in with its code."))
    codes = twofactor.install(user, twofactor.candidate_secret(user.id, nonce), code, now)
    user.last_login_at = now
    db.session.commit()
    return codes


# ------------------------------------------------------------------ changes that ask for the password again

WRONG_PASSWORD = _l("This password is not right.")


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound()
    return user


def _check_password(user: User, password: str | None) -> None:
    """The account's current password, before any write lock is taken (scrypt takes tens of milliseconds)."""
    password = password or ""
    if len(password) > MAX_PASSWORD_LENGTH or not passwords.matches(user.password_hash, password):
        error = AuthenticationFailed(WRONG_PASSWORD, fields={"password": WRONG_PASSWORD})
        error.account_id, error.reason = user.id, "wrong password"
        raise error


def _check_code(user: User, code: str | None, now: datetime) -> None:
    """For an account with a second factor, a current code, spent in the caller's write transaction: a refused
    code writes nothing, and an accepted one cannot be used again."""
    if twofactor.enrolled(user):
        twofactor.consume(user, code, now)


def change_password(user_id: int, *, password: str, code: str | None, new_password: str, now: datetime,
                    keep: str | None = None) -> None:
    """A new password; every other session of the account ends (`keep` is the token of the one in use)."""
    user = _account(user_id)
    if problem := password_problem(new_password):
        raise InvalidInput(fields={"new_password": problem})
    new_hash = hash_password(new_password)  # before the lock, like the check of the old one
    _check_password(user, password)
    begin_write()
    _check_code(user, code, now)
    user.password_hash = new_hash
    _end_sessions(user.id, now, keep=keep)
    db.session.commit()


def change_phone(user_id: int, *, password: str, code: str | None, new_phone: str, now: datetime) -> User:
    """A new sign-in number, which no other account may have."""
    user = _account(user_id)
    try:
        new_phone = normalise_phone(new_phone)
    except InvalidInput as error:
        raise InvalidInput(fields={"new_phone": error.fields["phone"]}) from error
    taken = InvalidInput(fields={"new_phone": _l("An account with this mobile number already exists.")})
    if new_phone == user.phone or find_user(new_phone) is not None:
        raise taken
    _check_password(user, password)
    begin_write()
    _check_code(user, code, now)
    if db.session.scalar(select(User.id).where(User.phone == new_phone)) is not None:  # taken meanwhile
        db.session.rollback()
        raise taken
    user.phone = new_phone
    db.session.commit()
    return user


def enrol_second_factor(user_id: int, *, password: str, code: str | None, nonce: str, new_code: str,
                        now: datetime, keep: str | None = None) -> list[str]:
    """Set up an authenticator (anew, for an account that has one: its current code is asked too); every other
    session ends. Returns the new recovery codes, to be shown once."""
    user = _account(user_id)
    _check_password(user, password)
    begin_write()
    _check_code(user, code, now)
    try:
        codes = twofactor.install(user, twofactor.candidate_secret(user.id, nonce), new_code, now)
    except AuthenticationFailed as error:
        error.fields = {"new_code": error.message}
        raise
    _end_sessions(user.id, now, keep=keep)
    db.session.commit()
    return codes


def renew_recovery_codes(user_id: int, *, password: str, code: str | None, now: datetime) -> list[str]:
    """Ten new recovery codes; the earlier ones stop working."""
    user = _account(user_id)
    if not twofactor.enrolled(user):
        raise Conflict(twofactor.NOT_ENROLLED)
    _check_password(user, password)
    begin_write()
    _check_code(user, code, now)
    codes = twofactor.issue_recovery_codes(user, now)
    twofactor.record(user, SecondFactorChange.CODES_RENEWED, user, now)
    db.session.commit()
    return codes


def turn_off_second_factor(user_id: int, *, password: str, code: str | None, now: datetime,
                           keep: str | None = None) -> None:
    """Members, station managers and merchants may go back to the password alone; staff and administrators
    may not. Every other session ends."""
    user = _account(user_id)
    if twofactor.required_for(user):
        raise PermissionDenied(_l("Union staff and administrators must keep a second factor."))
    if not twofactor.enrolled(user):
        raise Conflict(twofactor.NOT_ENROLLED)
    _check_password(user, password)
    begin_write()
    _check_code(user, code, now)
    twofactor.clear(user, SecondFactorChange.TURNED_OFF, user, now)
    _end_sessions(user.id, now, keep=keep)
    db.session.commit()


def reset_second_factor(phone: str, by: User, now: datetime) -> User:
    """An administrator removes an account's second factor (a lost phone): recorded with who and when; the
    account's sessions end, and it enrols again at its next sign-in (staff must; others may)."""
    if by.role is not Role.ADMIN or not by.active:
        raise PermissionDenied(_l("Only an administrator may reset a second factor."))
    user = find_user(normalise_phone(phone))
    if user is None:
        raise InvalidInput(fields={"phone": _l("No account has this mobile number.")})
    if not twofactor.enrolled(user):
        raise Conflict(_l("This account has no second factor to reset."))
    begin_write()
    twofactor.clear(user, SecondFactorChange.RESET, by, now)
    _end_sessions(user.id, now)
    db.session.commit()
    return user

