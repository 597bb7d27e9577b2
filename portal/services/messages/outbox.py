"""The outbox: every text message is a row, written in the transaction of the change that causes it, and delivered
by `flask worker` (portal.services.messages.worker) — so a message exists exactly when its cause was committed.

Delivery claims due rows in one short write transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers take
different rows; SQLite: BEGIN IMMEDIATE, one claimer at a time), sends each outside any transaction with its stable
`message_id`, and records the outcome at once; a try is recorded only by the claim that made it, and a message is
sent only while its lease outlasts a whole bounded send. A worker killed mid-send leaves its rows claimed until the
lease ends; another worker then sends them again under the same id (the provider's out-id field). Aliyun and Tencent
do not drop a repeated id, so that message — or one whose answer was lost to a timeout — may reach the phone twice:
the only way one can, and never a message lost. Quiet hours (22:00–08:00 Beijing) and the daily cap (5 a number) are
applied when a row is claimed: a row that may not go yet gets a later `not_before`, nothing is dropped.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.database import begin_write
from portal.extensions import db
from portal.models import MessageDay, MessageState, OutboxMessage, Subscription, Ticket
from portal.services import sla
from portal.services.messages import links, phones, texts
from portal.services.messages.providers.base import (
    DeliveryFailure,
    Outgoing,
    PermanentFailure,
    Provider,
    TemporaryFailure,
)
from portal.settings import public_url, setting

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min apart: about an hour of a provider's outage, then the dead list
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
UNCAPPED = frozenset({"verify"})  # a code the worker is waiting for on the page: sent at once, day or night
BATCH = 20


def _local_moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=sla.SHANGHAI).astimezone(UTC)


def quiet_until(now: datetime) -> datetime | None:
    """When the quiet hours around `now` end (08:00 Beijing), or None outside them (and always, when start == end)."""
    start, end = setting("QUIET_HOURS")
    if start == end:
        return None
    local = now.astimezone(sla.SHANGHAI)
    if start <= local.hour or local.hour < end:
        morning = local.date() + timedelta(days=1) if local.hour >= start else local.date()
        return _local_moment(morning, end)
    return None


def enqueue(template: str, phone: str, locale: str, now: datetime, *, ticket_id: int | None = None,
            params: dict | None = None) -> OutboxMessage:
    """Add a message to the caller's transaction (it commits with the change that causes it)."""
    row = OutboxMessage(message_id=secrets.token_hex(16), template=template, ticket_id=ticket_id,
                        phone_cipher=phones.seal(phone), phone_hash=phones.hash_of(phone), locale=locale,
                        params=json.dumps(params or {}), state=MessageState.QUEUED, not_before=now, attempts=0,
                        created_at=now)
    db.session.add(row)
    return row


def news(ticket: Ticket, template: str, now: datetime) -> None:
    """The worker opted in on this ticket: tell them (in the transaction of the change). One indexed read when
    they did not."""
    sub = db.session.scalar(select(Subscription).where(Subscription.ticket_id == ticket.id))
    if sub is None:
        return
    number = phones.unseal(sub.phone_cipher)
    if number is not None:
        enqueue(template, number, sub.locale, now, ticket_id=ticket.id)


def cancel_news(ticket_id: int) -> None:
    """Messages about this ticket not sent yet are dropped (the worker stopped them), numbers erased."""
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.ticket_id == ticket_id, OutboxMessage.state == MessageState.QUEUED,
        OutboxMessage.template.in_(texts.NEWS)).values(state=MessageState.CANCELLED, phone_cipher=None, params="{}"))


# ----- delivery

@dataclass(frozen=True)
class Claimed:
    """A message this worker may send: its try number and lease tell its claim from a later one by another worker."""

    id: int
    outgoing: Outgoing
    attempt: int
    until: datetime


@dataclass
class Delivery:
    """What one round of delivery did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead


def _reserve(phone_hash: str, day: date) -> bool:
    """One of the number's messages for `day`, if it has any left: the day's row made if missing (two workers may
    try at once: the second does nothing), then a conditional UPDATE, so no two workers give a number its sixth."""
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    db.session.execute(insert(MessageDay).values(phone_hash=phone_hash, day=day, n=0).on_conflict_do_nothing())
    taken = db.session.execute(update(MessageDay).where(MessageDay.phone_hash == phone_hash, MessageDay.day == day,
                                                        MessageDay.n < setting("MESSAGES_PER_DAY"))
                               .values(n=MessageDay.n + 1).execution_options(synchronize_session=False))
    return bool(taken.rowcount)


def _params(row: OutboxMessage, now: datetime) -> dict[str, str]:
    """The template's values, fixed at the first try so every retry sends the same text."""
    params = json.loads(row.params or "{}")
    if "token" in texts.PARAMS[row.template] and "token" not in params:
        number = db.session.scalar(select(Ticket.number).where(Ticket.id == row.ticket_id))
        purpose = "rate" if row.template == "answered" else "track"
        token = links.make(row.ticket_id, purpose, now)
        params |= {"number": number, "token": token, "link": public_url("tracking.from_message", token=token),
                   "stop": public_url("tracking.stop_from_message", token=token)}
    return params


def claim(now: datetime, limit: int = BATCH) -> list[Claimed]:
    """Take up to `limit` due messages for this worker, in one short write transaction."""
    begin_write()
    query = (select(OutboxMessage)
             .where(or_((OutboxMessage.state == MessageState.QUEUED) & (OutboxMessage.not_before <= now),
                        (OutboxMessage.state == MessageState.SENDING) & (OutboxMessage.claimed_until < now)))
             .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)
             .with_for_update(skip_locked=True))
    claimed, quiet, sign = [], quiet_until(now), setting("SMS_SIGN_NAME")
    for row in db.session.scalars(query).all():
        if row.template not in UNCAPPED:
            if quiet is not None:
                row.not_before, row.state = quiet, MessageState.QUEUED
                continue
            if row.attempts == 0 and not _reserve(row.phone_hash, sla.local_date(now)):
                row.not_before = _local_moment(sla.local_date(now) + timedelta(days=1), setting("QUIET_HOURS")[1])
                continue
        phone = phones.unseal(row.phone_cipher or "")
        if phone is None:
            _finish(row, MessageState.DEAD, now, "the number could not be read (another messages key?)")
            continue
        params = _params(row, now)
        row.params, row.state = json.dumps(params), MessageState.SENDING
        row.claimed_until, row.attempts = now + timedelta(seconds=setting("MESSAGES_LEASE_S")), row.attempts + 1
        outgoing = Outgoing(row.message_id, phone, row.template, texts.ordered(row.template, params), row.locale,
                            texts.render(row.template, params, row.locale, sign))
        claimed.append(Claimed(row.id, outgoing, row.attempts, row.claimed_until))
    db.session.commit()
    return claimed


def _finish(row: OutboxMessage, state: MessageState, now: datetime, error: str = "", reference: str = "") -> None:
    row.state, row.claimed_until, row.last_error = state, None, error[:300]
    if state is MessageState.SENT:
        row.sent_at, row.reference = now, reference[:64]
    if state is not MessageState.DEAD:  # a dead message keeps its number a while, to be sent again by hand
        row.phone_cipher, row.params = None, "{}"


def record(claimed: Claimed, outcome: str | DeliveryFailure, now: datetime) -> MessageState:
    """The outcome of one try: sent (the provider's reference), tried again later with backoff, or dead."""
    begin_write()
    row = db.session.get(OutboxMessage, claimed.id, with_for_update=True, populate_existing=True)
    if row is None or row.state is not MessageState.SENDING or row.attempts != claimed.attempt:
        # Another worker took it over after this claim's lease ran out: its try decides, not this late one.
        db.session.commit()
        return row.state if row else MessageState.CANCELLED
    if isinstance(outcome, str):
        _finish(row, MessageState.SENT, now, reference=outcome)
    elif isinstance(outcome, TemporaryFailure) and row.attempts < MAX_ATTEMPTS:
        wait = min(FIRST_BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
        if outcome.retry_after:  # a provider's own wait, up to the next day (its daily limit for the number)
            wait = max(wait, timedelta(seconds=min(outcome.retry_after, 24 * 3600)))
        row.state, row.claimed_until, row.not_before = MessageState.QUEUED, None, now + wait
        row.last_error = outcome.reason[:300]
    else:
        reason = outcome.reason if isinstance(outcome, PermanentFailure) else f"gave up after {row.attempts} tries: " \
                                                                              f"{outcome.reason}"
        _finish(row, MessageState.DEAD, now, reason)
    state = row.state
    db.session.commit()
    return state


def release(items: list[Claimed]) -> None:
    """Claimed messages this worker will not send after all (it is stopping): due again at once for any worker.
    Their try stays counted, so the daily cap is not taken twice."""
    if not items:
        return
    begin_write()
    for item in items:
        db.session.execute(update(OutboxMessage).where(
            OutboxMessage.id == item.id, OutboxMessage.state == MessageState.SENDING,
            OutboxMessage.attempts == item.attempt).values(state=MessageState.QUEUED, claimed_until=None))
    db.session.commit()


def deliver(provider: Provider, clock: Callable[[], datetime], limit: int = BATCH,
            stopping: Callable[[], bool] = lambda: False) -> Delivery:
    """One round: claim what is due and send it, recording each outcome as it comes. A message is sent only while
    its lease outlasts a whole bounded send (so no other worker can take it over meanwhile); when `stopping`, the
    rest of the round goes back to the queue."""
    result = Delivery()
    claimed = claim(clock(), limit)
    timeout = timedelta(seconds=float(setting("SMS_TIMEOUT_S")))
    for n, item in enumerate(claimed):
        if stopping():
            release(claimed[n:])
            break
        if clock() + timeout >= item.until:
            continue  # too late to send it safely: another worker takes it once the lease is over
        try:
            outcome: str | DeliveryFailure = provider.send(item.outgoing).reference
        except DeliveryFailure as failure:
            outcome = failure
        except Exception as error:  # noqa: BLE001 — a provider's bug must not lose the message
            log.exception("provider %s raised", provider.name)
            outcome = TemporaryFailure(f"provider error: {type(error).__name__}")
        state = record(item, outcome, clock())
        if state is MessageState.SENT:
            result.sent += 1
        elif state is MessageState.QUEUED:
            result.retried += 1
            result.failures.append(outcome.reason)
        elif state is MessageState.DEAD:
            result.dead += 1
            result.failures.append(outcome.reason if isinstance(outcome, DeliveryFailure) else "")
    return result


def send_again(message_id: int, now: datetime) -> bool:
    """An administrator sends a dead message again (the provider's problem was fixed): tries start anew."""
    begin_write()
    done = db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.state == MessageState.DEAD,
        OutboxMessage.phone_cipher.is_not(None)).values(state=MessageState.QUEUED, attempts=0, not_before=now,
                                                        last_error=""))
    db.session.commit()
    return bool(done.rowcount)


def dead_letters(limit: int = 100) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == MessageState.DEAD)
                                   .order_by(OutboxMessage.id.desc()).limit(limit)))


def queue_lengths() -> dict[MessageState, int]:
    rows = db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    return {state: 0 for state in MessageState} | dict(rows)


def tidy(now: datetime, keep: timedelta = timedelta(days=30)) -> None:
    """Old rows' numbers erased (dead ones after 30 days), the daily counts of past days dropped."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.state == MessageState.DEAD,
                                                   OutboxMessage.created_at < now - keep)
                       .values(phone_cipher=None, params="{}"))
    db.session.execute(delete(MessageDay).where(MessageDay.day < sla.local_date(now) - timedelta(days=2)))
