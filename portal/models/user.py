"""Accounts, their server-side login sessions and their second factor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.region import Region
from portal.models.types import UTCDateTime


class Role(StrEnum):
    MEMBER = "member"
    STATION_MANAGER = "station_manager"
    MERCHANT = "merchant"
    STAFF = "staff"
    ADMIN = "admin"


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Mainland mobile number, 11 digits: every role signs in with it.
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    # Union staff act for the union of this region and everything below it.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The second factor (RFC 6238): the base32 secret the authenticator app holds, never shown again after
    # enrolment; the last 30-second step accepted, so a code seen once is refused for the rest of its window.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region: Mapped[Region | None] = relationship()

    # Flask-Login's interface. The id it stores in the cookie is the login session's token, not the user id,
    # so revoking the session on the server ends a copied cookie too.
    session_token = None  # set per request by portal.services.users; not a column

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginSession(db.Model):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the random token held in the browser; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for a lost authenticator; only its hash is kept."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecondFactorChange(StrEnum):
    ENROLLED = "enrolled"
    CODES_RENEWED = "codes_renewed"
    TURNED_OFF = "turned_off"
    RESET = "reset"  # by an administrator: the account enrols again at its next sign-in


class SecondFactorEvent(db.Model):
    """Append-only record of every change to an account's second factor: whose, what, who did it, when."""

    __tablename__ = "second_factor_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    change: Mapped[SecondFactorChange] = mapped_column(
        Enum(SecondFactorChange, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
