"""The second factor: time-based codes from an authenticator app (RFC 6238 through pyotp: 6 digits, 30-second
steps, one step either side accepted for a phone's clock) and ten single-use recovery codes.

Staff and administrators must have one; members, station managers and merchants may. A code is accepted once:
the last step accepted is kept on the account and moved forward by one conditional UPDATE, so a code seen over a
shoulder (or sent twice) is refused for the rest of its window, however many requests race. Recovery codes are
kept as hashes and spent the same way (`UPDATE … WHERE used_at IS NULL`).

Between the password and the code there is no login session: the half-done sign-in is a signed value the
browser holds for a few minutes (`pending_sign_in`), naming the account, so nothing but the code step accepts it.
The secret of an enrolment in progress is never sent anywhere but to the page: it is derived from the server's key
and a random nonce the page carries, so the form cannot choose it and no cookie holds it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyotp
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from portal.exceptions import AuthenticationFailed
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import RecoveryCode, Role, SecondFactorChange, SecondFactorEvent, User
from portal.services import qr
from portal.settings import setting

ISSUER = "职工服务门户"  # what the authenticator app shows above the account
DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1  # steps either side of now
REQUIRED_ROLES = frozenset({Role.STAFF, Role.ADMIN})
RECOVERY_COUNT = 10
RECOVERY_LENGTH = 10  # Crockford base32: 50 bits each, single-use, behind the rate limit
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOTP_CODE = re.compile(rf"\d{{{DIGITS}}}")

ENTER_CODE = _l("Enter the 6 digits your authenticator app shows now, or one of your recovery codes.")
WRONG_CODE = _l("This code is not right. Enter the 6 digits your authenticator app shows now.")
CODE_USED = _l("This code has already been used. Wait for the next code in your authenticator app.")
RECOVERY_REFUSED = _l("This recovery code is wrong or has already been used.")
NOT_ENROLLED = _l("This account has no second factor.")


class Method(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"


def required_for(user: User) -> bool:
    """Whether the account may not sign in without a second factor (ASVS level 2: privileged users)."""
    return user.role in REQUIRED_ROLES


def enrolled(user: User) -> bool:
    return user.totp_secret is not None


def asks_for(user: User) -> bool:
    """Whether the sign-in goes on to a second step after the password: a code, or enrolment first."""
    return enrolled(user) or required_for(user)


# ----------------------------------------------------------------------------------------------- codes

def step_at(now: datetime) -> int:
    """The RFC 6238 time step of `now`: 30-second steps counted from the Unix epoch."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app holding `secret` shows at `now` (the demo and the tests compute it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step, within the window around `now`, whose code is `code`; None when none is."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    base = totp.timecode(now)
    found = None
    for step in range(base - WINDOW, base + WINDOW + 1):  # every step compared, in constant time
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def _clean(code: str | None) -> str:
    return re.sub(r"[\s\-]", "", code or "")


def normalise_recovery_code(raw: str | None) -> str:
    """Case, spaces and dashes ignored; O, I and L read as 0, 1 and 1 (Crockford); '' when it cannot be one."""
    text = _clean(raw).upper().translate(str.maketrans("OIL", "011"))
    return text if len(text) == RECOVERY_LENGTH and all(c in RECOVERY_ALPHABET for c in text) else ""


def _recovery_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{normalise_recovery_code(code)}".encode()).hexdigest()


def _refused(message, reason: str, user_id: int | None) -> AuthenticationFailed:
    """A refusal that says, for the log only, whose account and why (never the code)."""
    error = AuthenticationFailed(message, fields={"code": message})
    error.account_id, error.reason = user_id, reason
    return error


def consume(user: User, code: str | None, now: datetime) -> Method:
    """Accept `code` once for an enrolled `user`, in the caller's write transaction: an authenticator code of a
    step later than the last one accepted, or an unused recovery code. A refusal rolls the transaction back
    (nothing is written) and raises AuthenticationFailed naming the field `code`."""
    text = _clean(code)
    try:
        if not enrolled(user):
            raise _refused(NOT_ENROLLED, "not enrolled", user.id)
        if not text:
            raise _refused(ENTER_CODE, "no code", user.id)
        if TOTP_CODE.fullmatch(text):
            step = matching_step(user.totp_secret, text, now)
            if step is None:
                raise _refused(WRONG_CODE, "wrong code", user.id)
            taken = db.session.execute(
                update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step))
            if taken.rowcount != 1:
                raise _refused(CODE_USED, "code replayed", user.id)
            return Method.TOTP
        spent = db.session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                                       RecoveryCode.code_hash == _recovery_hash(user.id, text))
            .values(used_at=now)) if normalise_recovery_code(text) else None
        if spent is None or spent.rowcount != 1:
            raise _refused(RECOVERY_REFUSED, "recovery code refused", user.id)
        return Method.RECOVERY
    except AuthenticationFailed:
        db.session.rollback()
        raise


def recovery_codes_left(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))


def issue_recovery_codes(user: User, now: datetime) -> list[str]:
    """Ten new recovery codes replacing any earlier ones, in the caller's write transaction; returned once, for
    the page to show, and stored only as hashes."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    while len(codes) < RECOVERY_COUNT:
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        if code not in codes:
            codes.append(code)
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, c), created_at=now)
                        for c in codes])
    return [f"{c[:5]}-{c[5:]}" for c in codes]


# ------------------------------------------------------------------------------------------ enrolment

@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (grouped for typing) and the otpauth:// URI, also as a QR code."""

    secret: str
    uri: str

    @property
    def groups(self) -> list[str]:
        return [self.secret[i:i + 4] for i in range(0, len(self.secret), 4)]

    def qr(self, label: str) -> Markup:
        return qr.svg(self.uri, label)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def candidate_secret(user_id: int, nonce: str) -> str:
    """The secret offered to `user_id` by a page carrying `nonce`: 160 bits (RFC 4226's recommendation) from the
    server's key, so neither the browser nor a cookie ever holds it before it is confirmed."""
    key = setting("SECRET_KEY").encode()
    digest = hmac.new(key, f"second-factor-enrolment:{user_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def account_label(user: User) -> str:
    """How the authenticator app names the account: the masked number, so a glance at the app gives nothing away."""
    return f"{user.phone[:3]}****{user.phone[-4:]}"


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI authenticator apps read (from the QR code or a link): issuer, account, secret."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_label(user), issuer_name=ISSUER)


def enrolment(user: User, nonce: str) -> Enrolment:
    secret = candidate_secret(user.id, nonce)
    return Enrolment(secret, provisioning_uri(user, secret))


def install(user: User, secret: str, code: str | None, now: datetime, actor: User | None = None) -> list[str]:
    """Make `secret` the account's second factor, in the caller's write transaction, once `code` shows the app
    holds it (code None: a secret set by the demo loader or the tests, not typed by anyone); new recovery codes,
    returned once. The step of the confirming code counts as used. A wrong code rolls back and raises."""
    step = None
    if code is not None:
        step = matching_step(secret, _clean(code), now) if TOTP_CODE.fullmatch(_clean(code)) else None
        if step is None:
            db.session.rollback()
            raise _refused(WRONG_CODE, "wrong enrolment code", user.id)
    user.totp_secret, user.totp_last_step, user.totp_enrolled_at = secret, step, now
    record(user, SecondFactorChange.ENROLLED, actor or user, now)
    return issue_recovery_codes(user, now)


def clear(user: User, change: SecondFactorChange, actor: User, now: datetime) -> None:
    """Remove the account's second factor and its recovery codes, in the caller's write transaction, recorded."""
    user.totp_secret = user.totp_last_step = user.totp_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(user, change, actor, now)


def record(user: User, change: SecondFactorChange, actor: User, now: datetime) -> None:
    db.session.add(SecondFactorEvent(user_id=user.id, actor_id=actor.id, change=change, at=now))


def recent_changes(change: SecondFactorChange, limit: int = 20) -> list[SecondFactorEvent]:
    """The latest changes of one kind (administrators' resets, for their page), newest first."""
    return list(db.session.scalars(select(SecondFactorEvent).where(SecondFactorEvent.change == change)
                                   .order_by(SecondFactorEvent.at.desc(), SecondFactorEvent.id.desc()).limit(limit)))


# ------------------------------------------------------------------------------------ the half-done sign-in

@dataclass(frozen=True)
class Pending:
    """A sign-in whose password was accepted and whose second step is still to come."""

    user: User
    remember: bool
    nonce: str  # the enrolment's secret is derived from it
    target: str | None  # where the sign-in was going


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(setting("SECRET_KEY"), salt="second-factor-pending")


def _password_mark(user: User) -> str:
    """A changed password (or reset account) ends every half-done sign-in made with the old one."""
    return hashlib.sha256(f"{user.password_hash}:{user.totp_secret or ''}".encode()).hexdigest()[:16]


def pending_sign_in(user: User, now: datetime, *, remember: bool = False, target: str | None = None) -> str:
    """The signed value the browser holds between the password and the code; dated by the application's clock."""
    return _serializer().dumps([user.id, int(now.timestamp()), bool(remember), new_nonce(), target or "",
                                _password_mark(user)])


def resume_sign_in(token: str | None, now: datetime) -> Pending | None:
    """The half-done sign-in `token` holds, or None when it is forged, older than SECOND_FACTOR_PENDING_SECONDS,
    or its account has since changed its password or second factor, or been disabled."""
    try:
        user_id, issued, remember, nonce, target, mark = _serializer().loads(token or "")
    except (BadSignature, ValueError, TypeError):
        return None
    age = now.timestamp() - issued  # a little negative when another host's clock is a second ahead
    if not -STEP_SECONDS <= age <= int(setting("SECOND_FACTOR_PENDING_SECONDS")):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not hmac.compare_digest(mark, _password_mark(user)):
        return None
    return Pending(user, bool(remember), nonce, target or None)
