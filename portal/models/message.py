"""Text messages to workers: numbers waiting for their code, opted-in numbers, and the outbox.

Numbers are kept apart from the ticket, encrypted (`*_cipher`, Fernet) with a key staff never hold, and found by a
keyed hash (`phone_hash`) that cannot be turned back into the number (portal.services.messages.phones)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class MessageState(StrEnum):
    QUEUED = "queued"  # waiting for its time (not_before) and a worker
    SENDING = "sending"  # claimed by a worker until claimed_until; after that another worker may take it
    SENT = "sent"
    DEAD = "dead"  # refused for good, or out of tries: on the administrators' list with the reason
    CANCELLED = "cancelled"  # the worker stopped the messages before this one went


class PhoneCheck(db.Model):
    """A number a worker asked messages to go to, until they type the six-digit code sent to it."""

    __tablename__ = "message_phone_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    tries: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscription(db.Model):
    """A confirmed number that is told when its ticket moves; deleted on opting out and 30 days after closing."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(8))  # the language of the page the worker opted in on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """One text message, written in the transaction of the change that causes it and delivered by `flask worker`.

    `message_id` goes to the provider with every try, so a retry after a crash is the same message to it. The
    number is erased once the message is sent, dead or cancelled; its keyed hash stays for the daily cap."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    template: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    phone_cipher: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the template's values, fixed at the first try
    state: Mapped[MessageState] = mapped_column(
        Enum(MessageState, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reference: Mapped[str] = mapped_column(String(64), default="")  # the provider's id for it
    last_error: Mapped[str] = mapped_column(String(300), default="")

    ticket = relationship("Ticket")


class MessageDay(db.Model):
    """How many messages one number was given on one Beijing day: the daily cap, kept by a conditional UPDATE."""

    __tablename__ = "message_day"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DevelopmentMessage(db.Model):
    """What the development provider would have sent (development only), for the administrators' outbox page."""

    __tablename__ = "development_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32), index=True)
    phone_cipher: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
