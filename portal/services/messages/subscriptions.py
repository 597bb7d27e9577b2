"""A worker's number for news of their request: asked for, confirmed with a six-digit code, stopped in one tap,
deleted 30 days after the case closes; and "send my number again" for a worker who lost the receipt.

The number lives only here and in the outbox, encrypted (portal.services.messages.phones); staff pages never read
these tables. A code is kept as a keyed hash, lives 10 minutes and allows five wrong tries, then a wait."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from portal.database import begin_write
from portal.exceptions import InvalidInput, TooManyAttempts
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import OPEN_STATUSES, MessageState, OutboxMessage, PhoneCheck, Subscription, Ticket
from portal.services.messages import outbox, phones
from portal.services.users import normalise_phone
from portal.settings import setting

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
WAIT_AFTER_TRIES = timedelta(minutes=15)
CODES_PER_NUMBER_PER_HOUR = 3  # however many requests and addresses ask: a number is not flooded with codes
RESENDS_PER_NUMBER_PER_DAY = 3
RESEND_TICKETS = 3  # the most recent requests a lost-code message is sent for
KEEP_AFTER_CLOSING = timedelta(days=30)


@dataclass(frozen=True)
class TextsState:
    """What the tracking page says about messages for one ticket."""

    on: str | None  # the masked number messages go to
    waiting: str | None  # the masked number a code was sent to, while it can still be typed
    expires_at: datetime | None = None


def enabled() -> bool:
    return bool(setting("SMS_PROVIDER"))


def _code_hash(ticket_id: int, code: str) -> str:
    key = hashlib.sha256(b"portal phone code\x00" + setting("SECRET_KEY").encode()).digest()
    return hmac.new(key, f"{ticket_id}:{code}".encode(), hashlib.sha256).hexdigest()


def state(ticket_id: int, now: datetime) -> TextsState:
    sub = db.session.scalar(select(Subscription).where(Subscription.ticket_id == ticket_id))
    if sub is not None:
        return TextsState(phones.masked(phones.unseal(sub.phone_cipher) or ""), None)
    check = db.session.scalar(select(PhoneCheck).where(PhoneCheck.ticket_id == ticket_id))
    if check is not None and check.expires_at > now and check.tries < MAX_TRIES:
        return TextsState(None, phones.masked(phones.unseal(check.phone_cipher) or ""), check.expires_at)
    return TextsState(None, None)


def is_on(ticket_id: int) -> bool:
    """Whether the worker gets texts about this ticket: staff are told that much, never the number."""
    return db.session.scalar(select(Subscription.id).where(Subscription.ticket_id == ticket_id)) is not None


def _recent(template: str, phone_hash: str, since: datetime) -> int:
    """Messages of this kind queued for this number since then (codes asked for, numbers sent again)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.phone_hash == phone_hash, OutboxMessage.template == template, OutboxMessage.created_at >= since))


def ask_code(ticket: Ticket, raw_phone: str, locale: str, now: datetime) -> None:
    """Send a code to the number the worker typed; it replaces any earlier one for this ticket."""
    phone = normalise_phone(raw_phone)
    digest = phones.hash_of(phone)
    begin_write()
    check = db.session.scalar(select(PhoneCheck).where(PhoneCheck.ticket_id == ticket.id))
    if check is not None and check.tries >= MAX_TRIES and now < check.created_at + WAIT_AFTER_TRIES:
        db.session.rollback()
        raise TooManyAttempts(retry_after=(check.created_at + WAIT_AFTER_TRIES - now).total_seconds())
    if _recent("verify", digest, now - timedelta(hours=1)) >= CODES_PER_NUMBER_PER_HOUR:
        db.session.rollback()
        raise TooManyAttempts(_l("Several codes were sent to this number in the last hour. Please wait a little "
                                 "before asking for another."), retry_after=15 * 60)
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.execute(delete(PhoneCheck).where(PhoneCheck.ticket_id == ticket.id))
    db.session.add(PhoneCheck(ticket_id=ticket.id, phone_cipher=phones.seal(phone), phone_hash=digest,
                              code_hash=_code_hash(ticket.id, code), locale=locale, tries=0, created_at=now,
                              expires_at=now + CODE_LIFETIME))
    outbox.enqueue("verify", phone, locale, now, ticket_id=ticket.id, params={"code": code})
    db.session.commit()


def confirm(ticket: Ticket, code: str, now: datetime) -> None:
    """The code the worker typed: the right one turns messages on; a wrong one counts against five tries."""
    begin_write()
    check = db.session.scalar(select(PhoneCheck).where(PhoneCheck.ticket_id == ticket.id))
    if check is None or check.expires_at <= now:
        db.session.rollback()
        raise InvalidInput(fields={"code": _l("This code has expired. Ask for a new one.")})
    if check.tries >= MAX_TRIES:
        db.session.rollback()
        raise TooManyAttempts(_l("Too many wrong codes. Ask for a new code in a quarter of an hour."),
                              retry_after=(check.created_at + WAIT_AFTER_TRIES - now).total_seconds())
    typed = "".join(ch for ch in code if not ch.isspace())
    if not hmac.compare_digest(check.code_hash, _code_hash(ticket.id, typed)):
        left = MAX_TRIES - check.tries - 1
        db.session.execute(update(PhoneCheck).where(PhoneCheck.id == check.id).values(tries=PhoneCheck.tries + 1))
        db.session.commit()
        if left <= 0:
            raise TooManyAttempts(_l("Too many wrong codes. Ask for a new code in a quarter of an hour."),
                                  retry_after=WAIT_AFTER_TRIES.total_seconds())
        raise InvalidInput(fields={"code": _l("This code is not the one we sent. %(num)d tries left.", num=left)})
    db.session.execute(delete(Subscription).where(Subscription.ticket_id == ticket.id))
    db.session.add(Subscription(ticket_id=ticket.id, phone_cipher=check.phone_cipher, phone_hash=check.phone_hash,
                                locale=check.locale, created_at=now))
    db.session.delete(check)
    db.session.commit()


def stop(ticket_id: int) -> None:
    """No more messages about this ticket: the number is deleted, messages not yet sent are dropped."""
    begin_write()
    db.session.execute(delete(Subscription).where(Subscription.ticket_id == ticket_id))
    db.session.execute(delete(PhoneCheck).where(PhoneCheck.ticket_id == ticket_id))
    outbox.cancel_news(ticket_id)
    db.session.commit()


def continue_on(old: Ticket, new: Ticket) -> None:
    """A request continued as a new one keeps its messages (in the caller's transaction)."""
    sub = db.session.scalar(select(Subscription).where(Subscription.ticket_id == old.id))
    if sub is not None:
        db.session.add(Subscription(ticket_id=new.id, phone_cipher=sub.phone_cipher, phone_hash=sub.phone_hash,
                                    locale=sub.locale, created_at=new.received_at))


def resend(raw_phone: str, locale: str, now: datetime) -> None:
    """Send the number and a link of the worker's latest requests to this number, if any request knows it (opted
    in, or left as the contact number). The caller answers the same whatever happened here."""
    phone = normalise_phone(raw_phone)
    digest = phones.hash_of(phone)
    begin_write()
    if _recent("resend", digest, now - timedelta(days=1)) >= RESENDS_PER_NUMBER_PER_DAY:
        db.session.rollback()
        return
    recent = or_(Ticket.status.in_(OPEN_STATUSES), Ticket.closed_at >= now - KEEP_AFTER_CLOSING)
    opted = select(Subscription.ticket_id).where(Subscription.phone_hash == digest)
    found = db.session.scalars(select(Ticket.id).where(or_(Ticket.id.in_(opted), Ticket.contact_phone == phone),
                                                       recent).order_by(Ticket.id.desc()).limit(RESEND_TICKETS))
    for ticket_id in found:
        outbox.enqueue("resend", phone, locale, now, ticket_id=ticket_id)
    db.session.commit()


def forget_closed(now: datetime) -> int:
    """Numbers of cases closed more than 30 days ago are deleted, with every trace the outbox kept of them."""
    old = select(Ticket.id).where(Ticket.open.is_(False), Ticket.closed_at < now - KEEP_AFTER_CLOSING)
    gone = db.session.execute(delete(Subscription).where(Subscription.ticket_id.in_(old))).rowcount
    db.session.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(old),
                                                   OutboxMessage.state == MessageState.QUEUED)
                       .values(state=MessageState.CANCELLED))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(old),
                                                   OutboxMessage.phone_cipher.is_not(None))
                       .values(phone_cipher=None, params="{}"))
    db.session.execute(delete(PhoneCheck).where(or_(PhoneCheck.ticket_id.in_(old),
                                                    PhoneCheck.created_at < now - timedelta(days=1))))
    return gone
