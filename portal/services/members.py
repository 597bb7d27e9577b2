"""Union memberships: the roster admins import, sign-up checked against it, admins' decisions on numbers the
roster lacks, and the member card's short-lived proofs (a signed QR token and a typed numeric code).

The card proves membership for at most CARD_SECONDS: a screenshot or a photographed code is useless a minute
later. The QR holds an itsdangerous token (signed, timestamped); the numeric code is the membership id followed by
six digits of an HMAC of the id and the current 30-second step, so a cashier can type it and no table of codes is
needed. Both are checked against the clock with no state, and neither says anything about the member.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.database import command
from portal.exceptions import InvalidInput, NotFound, NotRedeemable
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.models import BenefitEvent, Membership, MembershipStatus, Role, User
from portal.services import csvfile, users
from portal.services.sla import local_date
from portal.settings import setting

# Occupation tags: campaigns such as the summer cooling voucher are for outdoor workers of some occupations (their
# names: portal.vocabulary.OCCUPATION_LABELS).
OCCUPATIONS = ("delivery", "courier", "sanitation", "construction", "driver", "domestic", "security", "factory",
               "other")
NUMBER = re.compile(r"[0-9A-Z][0-9A-Z-]{3,31}")
CARD_SECONDS = 60
CODE_STEP = 30  # a typed code is valid for the step it was shown in and the next: 30 to 60 seconds
CODE_DIGITS = 6


def normalise_number(raw: str) -> str:
    number = re.sub(r"\s", "", raw or "").upper()
    if not NUMBER.fullmatch(number):
        raise InvalidInput(fields={"number": _l("Enter the membership number on your union card (4 to 32 "
                                                "letters or digits).")})
    return number


def _same_name(a: str, b: str) -> bool:
    return re.sub(r"\s", "", a) == re.sub(r"\s", "", b)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧**明: enough for a cashier to see it fits, not enough to identify anyone."""
    name = name.strip()
    if len(name) <= 2:
        return name[:1] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_number(number: str) -> str:
    return "*" * max(0, len(number) - 4) + number[-4:]


def is_valid(membership: Membership, now: datetime) -> bool:
    """An active membership whose validity has not ended (valid_until is the last Beijing day it holds)."""
    return (membership.status is MembershipStatus.ACTIVE
            and (membership.valid_until is None or membership.valid_until >= local_date(now)))


def of_user(user: User) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def get(membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        raise NotFound()
    return membership


def _event(action: str, membership: Membership, actor: User | None, now: datetime, detail: str = "") -> None:
    db.session.add(BenefitEvent(at=now, action=action, actor_id=actor.id if actor else None,
                                membership_id=membership.id, detail=detail[:255]))


# -------------------------------------------------------------------------------------------- sign-up

@command
def sign_up(*, phone: str, password: str, number: str, name: str, now: datetime) -> Membership:
    """A member account. A number on the roster under the same name is a membership at once; a number the
    roster lacks waits for an administrator; a number someone already signed up with is refused."""
    number, name = normalise_number(number), (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise InvalidInput(fields={"name": _l("Enter your name as it is on your union card.")})
    found = db.session.scalar(select(Membership).where(Membership.number == number))
    if found is not None and (found.user_id is not None or found.status is not MembershipStatus.ROSTER):
        raise InvalidInput(fields={"number": _l("This membership number is already registered. Sign in, or ask "
                                                "your union if it is not you.")})
    if found is not None and not _same_name(found.name, name):
        raise InvalidInput(fields={"name": _l("The name does not match the roster for this membership number.")})
    try:
        user = users.add_user(phone=phone, password=password, role=Role.MEMBER, name=name, now=now)
        found = _claim(found, number, name, user, now)
    except IntegrityError:  # PostgreSQL: a sign-up with this phone or number committed a moment ago
        db.session.rollback()
        raise InvalidInput(_l("This mobile number or membership number was registered a moment ago. Sign in, "
                              "or ask your union if it was not you.")) from None
    _event("signed_up", found, user, now, found.status.value)
    db.session.commit()
    return found


def _claim(found: Membership | None, number: str, name: str, user: User, now: datetime) -> Membership:
    """The roster row becomes the user's, by a conditional UPDATE; without one, a pending membership."""
    if found is None:
        found = Membership(number=number, name=name, status=MembershipStatus.PENDING, user_id=user.id,
                           created_at=now)
        db.session.add(found)
    else:
        claimed = db.session.execute(
            update(Membership).where(Membership.id == found.id, Membership.user_id.is_(None))
            .values(user_id=user.id, status=MembershipStatus.ACTIVE, decided_at=now))
        if claimed.rowcount != 1:  # someone signed up with this number a moment ago
            db.session.rollback()
            raise InvalidInput(fields={"number": _l("This membership number is already registered.")})
        db.session.refresh(found)
    db.session.flush()
    return found


@command
def decide(membership_id: int, approve: bool, admin: User, now: datetime, *, tag: str = "other",
           valid_until: date | None = None, union_name: str = "") -> Membership:
    """An administrator approves (with the details the roster would have given) or rejects a pending sign-up."""
    membership = get(membership_id)
    if membership.status is not MembershipStatus.PENDING:
        raise InvalidInput(_l("This sign-up has already been decided."))
    if tag not in OCCUPATIONS:
        raise InvalidInput(fields={"tag": _l("Choose an occupation from the list.")})
    membership.status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
    membership.decided_at = now
    if approve:
        membership.tag, membership.valid_until = tag, valid_until
        membership.union_name = union_name.strip()[:100] or membership.union_name
        membership.member_since = membership.member_since or local_date(now)
    _event("approved" if approve else "rejected", membership, admin, now)
    db.session.commit()
    return membership


def pending() -> list[Membership]:
    return list(db.session.scalars(select(Membership).where(Membership.status == MembershipStatus.PENDING)
                                   .order_by(Membership.created_at)))


# ------------------------------------------------------------------------------------------ the roster

ROSTER_COLUMNS = ["number", "name", "union", "occupation", "member_since", "valid_until"]
ROSTER_MAX_ROWS = 200_000


@dataclass
class RosterReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    activated: int = 0  # pending sign-ups whose number the roster now has
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _date(raw: str, name: str) -> date | None:
    try:
        return parse.day(raw, name)
    except InvalidInput:
        raise InvalidInput(_l("%(name)s is not a date like 2026-12-31", name=name)) from None


def _roster_row(raw: dict) -> dict:
    number = normalise_number(str(raw.get("number") or ""))
    name = str(raw.get("name") or "").strip()
    if not 1 <= len(name) <= 64:
        raise InvalidInput(_l("name is missing or longer than 64 characters"))
    tag = str(raw.get("occupation") or "other").strip() or "other"
    if tag not in OCCUPATIONS:
        raise InvalidInput(_l("unknown occupation %(tag)s; use one of %(tags)s", tag=tag[:20],
                              tags=", ".join(OCCUPATIONS)))
    return {"number": number, "name": name, "union_name": str(raw.get("union") or "").strip()[:100], "tag": tag,
            "member_since": _date(raw.get("member_since"), "member_since"),
            "valid_until": _date(raw.get("valid_until"), "valid_until")}


def read_roster(content: bytes) -> list[tuple[int, dict]]:
    """(line, fields) per row of a UTF-8 CSV, with or without the BOM Excel writes."""
    rows = csvfile.read(content, ROSTER_COLUMNS)
    if len(rows) > ROSTER_MAX_ROWS:
        raise InvalidInput(_l("At most %(num)d rows at a time.", num=ROSTER_MAX_ROWS))
    return rows


@command
def import_roster(rows: list[tuple[int, dict]], admin: User | None, now: datetime) -> RosterReport:
    """All or nothing: every bad row is reported and then nothing is written. Rows are matched by number, so
    the same file twice changes nothing; a pending sign-up whose number appears becomes active."""
    report, parsed, seen = RosterReport(rows=len(rows)), [], set()
    for line, raw in rows:
        try:
            row = _roster_row(raw)
        except InvalidInput as error:
            report.problems.append((line, str(next(iter(error.fields.values()), error.message))))
            continue
        if row["number"] in seen:
            report.problems.append((line, str(_l("membership number %(n)s appears twice", n=row["number"]))))
        seen.add(row["number"])
        parsed.append(row)
    if not report.ok:
        return report
    numbers, existing = sorted(seen), {}
    for start in range(0, len(numbers), 10_000):  # PostgreSQL takes at most 65,535 parameters a statement
        existing |= {m.number: m for m in db.session.scalars(
            select(Membership).where(Membership.number.in_(numbers[start:start + 10_000])))}
    for row in parsed:
        membership = existing.get(row["number"])
        if membership is None:
            db.session.add(Membership(**row, status=MembershipStatus.ROSTER, created_at=now))
            report.added += 1
            continue
        if membership.status is MembershipStatus.PENDING:
            membership.status, membership.decided_at = MembershipStatus.ACTIVE, now
            report.activated += 1
            _event("activated", membership, admin, now, "roster")
        changed = {k: v for k, v in row.items() if getattr(membership, k) != v}
        for key, value in changed.items():
            setattr(membership, key, value)
        report.updated += bool(changed)
    db.session.add(BenefitEvent(at=now, action="roster", actor_id=admin.id if admin else None,
                                detail=f"rows={report.rows} added={report.added} updated={report.updated}"))
    db.session.commit()
    return report


# ----------------------------------------------------------------------------------------- card proofs

class _ClockSigner(TimestampSigner):
    """itsdangerous reads the system clock; services are given `now`, so tests can fix the time."""

    def __init__(self, *args, clock: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock.timestamp())


def _serializer(now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(setting("SECRET_KEY"), salt="member-card", signer=_ClockSigner,
                                  signer_kwargs={"clock": now})


def card_token(membership: Membership, now: datetime) -> str:
    return _serializer(now).dumps(membership.id)


def _otp(membership_id: int, step: int) -> str:
    key = hashlib.sha256(("member-card-code:" + setting("SECRET_KEY")).encode()).digest()
    digest = hmac.new(key, f"{membership_id}:{step}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def card_code(membership: Membership, now: datetime) -> str:
    return f"{membership.id}{_otp(membership.id, int(now.timestamp()) // CODE_STEP)}"


def card_expires(now: datetime) -> datetime:
    """When the token and the code shown at `now` stop working: the code's end (30 to 60 s), which comes first,
    so the card never promises more than the cashier's check will give."""
    step_end = (int(now.timestamp()) // CODE_STEP + 2) * CODE_STEP
    return min(now + timedelta(seconds=CARD_SECONDS), datetime.fromtimestamp(step_end, UTC))


BAD_CARD = _l("This member code is not valid or has expired. Ask the member to refresh the card and show it "
              "again.")


def read_card(proof: str, now: datetime) -> Membership:
    """The membership behind a scanned token or a typed code still within its lifetime; NotRedeemable else.
    Whether the membership itself is valid is for the caller to show (is_valid)."""
    proof, digits = (proof or "").strip()[:200], re.sub(r"[\s-]", "", proof or "")[:30]
    membership_id = None
    # ASCII digits only (str.isdigit takes ² and ١٢٣, which int() then reads or refuses), and an id a column holds.
    if re.fullmatch(r"[0-9]+", digits) and CODE_DIGITS < len(digits) <= CODE_DIGITS + 10:
        candidate, otp, step = int(digits[:-CODE_DIGITS]), digits[-CODE_DIGITS:], int(now.timestamp()) // CODE_STEP
        if candidate <= parse.INT32_MAX and any(hmac.compare_digest(otp, _otp(candidate, s)) for s in (step, step - 1)):
            membership_id = candidate
    elif proof:
        try:
            membership_id = _serializer(now).loads(proof, max_age=CARD_SECONDS)
        except SignatureExpired:
            raise NotRedeemable(_l("This member code has expired. Ask the member to refresh the card.")) from None
        except BadSignature:
            membership_id = None
    membership = db.session.get(Membership, membership_id) if isinstance(membership_id, int) else None
    if membership is None or membership.user_id is None:
        raise NotRedeemable(BAD_CARD)
    return membership
