"""Grievance tickets, their append-only history, and evidence files."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


def _enum(cls, length: int):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Kind(StrEnum):
    CONSULTATION = "consultation"
    SUGGESTION = "suggestion"
    HELP = "help"
    APPEAL = "appeal"


class Channel(StrEnum):
    HOTLINE = "hotline"
    MAILBOX = "mailbox"
    VISIT = "visit"
    WEB = "web"
    QR = "qr"
    API = "api"


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RETURNED_UP = "returned_up"
    EXTENSION_REQUESTED = "extension_requested"
    REPLIED = "replied"
    RETURN_VISIT = "return_visit"
    AWAITING_PROMISE = "awaiting_promise"  # rated satisfied, open until the date the reply promised
    REOPENED = "reopened"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


CLOSED_STATUSES = frozenset({Status.CLOSED, Status.WITHDRAWN, Status.MERGED})
OPEN_STATUSES = frozenset(Status) - CLOSED_STATUSES


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class Ticket(db.Model):
    __tablename__ = "ticket"
    # The worklist: open cases in deadline order, read straight from the index without sorting.
    __table_args__ = (Index("ix_ticket_open_due", "open", "due_at", "id"),
                      # a city's, district's or town's open cases, without reading its closed ones
                      Index("ix_ticket_open_handler_due", "open", "handler_code", "due_at"),
                      Index("ix_ticket_received", "received_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    # SHA-256 of the worker's query code; the code itself is never stored.
    query_code_hash: Mapped[str] = mapped_column(String(64))
    # The one-time form token it was submitted with: a retry of the same form finds this ticket again.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[Kind] = mapped_column(_enum(Kind, 20))
    category: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 10))
    status: Mapped[Status] = mapped_column(_enum(Status, 24), index=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)  # status in OPEN_STATUSES, kept for the index
    # Where the problem is, and which union handles the case now.
    place_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    handler_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    description: Mapped[str] = mapped_column(Text)
    employer: Mapped[str] = mapped_column(String(200), default="")
    amount_owed_fen: Mapped[int | None] = mapped_column(BigInteger)
    workers_affected: Mapped[int | None] = mapped_column(Integer)
    amount_recovered_fen: Mapped[int | None] = mapped_column(BigInteger)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(11), default="", index=True)  # "send my number again"
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The partner channel that submitted it through the API, which alone may read its details there.
    api_channel_id: Mapped[int | None] = mapped_column(ForeignKey("api_channel.id"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    period_days: Mapped[int] = mapped_column(Integer)  # working days allowed, extensions included
    rating: Mapped[Rating | None] = mapped_column(_enum(Rating, 20))
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # The date by which the reply says something will happen ("the employer pays by 10 December"): a
    # satisfied rating keeps the case open until then (portal.services.tickets.workflow).
    promised_by: Mapped[date | None] = mapped_column(Date)
    # The earlier request this one continues: the worker wrote again after it was closed and reopened once.
    # Unique: a request is continued once, however often the worker presses Send.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For the dashboard: when it was first sent down a level, and when the worker's current answer was given
    # (cleared when the case is reopened), so "dispatched" and "answered on time" are read from the row.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[TicketEvent]] = relationship(order_by="TicketEvent.id", back_populates="ticket")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", back_populates="ticket")
    handler = relationship("Region", foreign_keys=[handler_code])
    place = relationship("Region", foreign_keys=[place_code])
    follows: Mapped[Ticket | None] = relationship(foreign_keys=[follows_id], remote_side=[id],
                                                  back_populates="follow_up")
    follow_up: Mapped[Ticket | None] = relationship(foreign_keys=[follows_id], back_populates="follows",
                                                    uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(db.Model):
    """One change to a ticket. Rows are only ever added: the history is the record."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[Status | None] = mapped_column(_enum(Status, 24))
    to_status: Mapped[Status | None] = mapped_column(_enum(Status, 24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # "worker", "staff", "system" or "channel": who acted, for people reading the timeline.
    actor_kind: Mapped[str] = mapped_column(String(10))
    # The union the actor acted for, and for dispatches and returns, the union the case went to.
    actor_region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    target_region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", back_populates="event")
    actor_region = relationship("Region", foreign_keys=[actor_region_code])
    target_region = relationship("Region", foreign_keys=[target_region_code])


class Attachment(db.Model):
    """Evidence, stored outside static/ under a random name; served only to staff who may see the ticket."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_event.id"))
    stored_name: Mapped[str] = mapped_column(String(32), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    event: Mapped[TicketEvent | None] = relationship(back_populates="attachments")


class Counter(db.Model):
    """Named sequences (e.g. ticket numbers per day), incremented atomically in the database."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class NoticeKind(StrEnum):
    REMINDER = "reminder"  # 催办: the deadline is near
    SUPERVISION = "supervision"  # 督办: the deadline has passed
    PUBLIC = "public"  # 通报: still unanswered five working days later


class Notice(db.Model):
    """A supervision notice in the inbox of the union above the one handling a ticket. One per ticket, kind
    and deadline: the sweep may run every minute, and an extended deadline earns new notices."""

    __tablename__ = "supervision_notice"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "due_at", name="uq_supervision_notice_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, 12))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()


class LedgerEntry(db.Model):
    """A contact logged by union staff (台账): a hotline call, a walk-in visit or a letter, answered on the
    spot or turned into a ticket. Every contact counts on the dashboard, whether or not it became a ticket."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 10))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)  # the union that took it
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, 20))
    category: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the form's: a double click logs once

    ticket: Mapped[Ticket | None] = relationship()


class TicketCount(db.Model):
    """How many tickets each union handles in each status, kept in the same transaction as every change,
    so counting a province's million tickets reads a few thousand rows. `flask tickets recount` rebuilds it."""

    __tablename__ = "ticket_count"

    handler_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)
    status: Mapped[Status] = mapped_column(_enum(Status, 24), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
