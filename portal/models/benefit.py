"""Member benefits: memberships (and the roster they are checked against), partner merchants and their offers,
subsidy campaigns and their vouchers, and redemptions (核销) at the counter or the till.

The rules that must hold under concurrency are the database's: a campaign's `issued` only grows by a conditional
UPDATE bounded by `stock`; a member's vouchers of one campaign and period are numbered 1…limit under a unique
constraint; a voucher has at most one live redemption (a partial unique index) and changes from available to used
only by a conditional UPDATE; a merchant's Idempotency-Key names one redemption (a unique constraint).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.models.user import User


def _enum(cls, length: int = 12):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class MembershipStatus(StrEnum):
    ROSTER = "roster"  # on the imported roster; nobody has signed up with this number yet
    PENDING = "pending"  # signed up with a number the roster does not have: an admin decides
    ACTIVE = "active"
    REJECTED = "rejected"


class Membership(db.Model):
    """A union membership: a roster row first, then the account of the member who signed up with its number."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # the union's membership number
    name: Mapped[str] = mapped_column(String(64))
    union_name: Mapped[str] = mapped_column(String(100), default="")
    tag: Mapped[str] = mapped_column(String(20), default="other")  # occupation, for campaign eligibility
    member_since: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an admin's approval or rejection
    # Touched by every redemption: the UPDATE locks the row, so one member's redemptions queue up and the
    # per-day and per-month limits of offers are counted one at a time (PostgreSQL; SQLite has one writer).
    last_redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


class MerchantCategory(StrEnum):
    CATERING = "catering"
    FUEL = "fuel"
    CINEMA = "cinema"
    SHOPPING = "shopping"
    HEALTH = "health"
    TRANSPORT = "transport"
    SERVICES = "services"


class Merchant(db.Model):
    __tablename__ = "merchant"
    __table_args__ = (Index("ix_merchant_lat_lng", "lat", "lng"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[MerchantCategory] = mapped_column(_enum(MerchantCategory), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    lng: Mapped[float] = mapped_column(Float)
    # SHA-256 of the till's API key; the key itself is shown once, when it is made.
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    offers: Mapped[list[Offer]] = relationship(back_populates="merchant", order_by="Offer.id")


class MerchantStaff(db.Model):
    """A merchant account's cashier or manager: a user of role merchant works for one merchant."""

    __tablename__ = "merchant_staff"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), index=True)


class OfferKind(StrEnum):
    PERCENT = "percent"  # percent off the bill
    FIXED = "fixed"  # an amount off the bill


class Offer(db.Model):
    """A standing member discount at one merchant."""

    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[OfferKind] = mapped_column(_enum(OfferKind))
    percent_off: Mapped[int] = mapped_column(Integer, default=0)  # 1–90 for PERCENT
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)  # for FIXED
    max_saving_fen: Mapped[int] = mapped_column(Integer, default=0)  # a cap for PERCENT; 0: none
    min_spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    per_day: Mapped[int] = mapped_column(Integer, default=0)  # uses per member per day; 0: no limit
    per_month: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)  # Beijing dates, both included
    ends_on: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant] = relationship(back_populates="offers")


class LimitPeriod(StrEnum):
    CAMPAIGN = "campaign"  # the per-member limit holds for the whole campaign
    DAY = "day"  # … for each Beijing day (a daily cooling voucher)


class Campaign(db.Model):
    """A subsidy campaign: vouchers of one face value, a stock, a budget, and who may claim them when."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(Integer)  # each voucher's face value
    min_spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    tag: Mapped[str | None] = mapped_column(String(20))  # only members with this occupation tag; None: all
    category: Mapped[MerchantCategory | None] = mapped_column(_enum(MerchantCategory))  # usable there; None: any
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"))  # usable only there
    stock: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)  # grows only by UPDATE … WHERE issued < stock
    per_member: Mapped[int] = mapped_column(Integer, default=1)
    limit_period: Mapped[LimitPeriod] = mapped_column(_enum(LimitPeriod), default=LimitPeriod.CAMPAIGN)
    budget_fen: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # claims and redemptions within [starts, ends)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voucher_days: Mapped[int] = mapped_column(Integer, default=0)  # a voucher lasts N Beijing days; 0: to the end
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant | None] = relationship()


class VoucherStatus(StrEnum):
    AVAILABLE = "available"
    USED = "used"


class Voucher(db.Model):
    __tablename__ = "voucher"
    __table_args__ = (
        # A member's n-th voucher of a campaign (in a period): two racing claims cannot both be the n-th.
        UniqueConstraint("campaign_id", "membership_id", "period", "seq", name="uq_voucher_member_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"), index=True)
    period: Mapped[str] = mapped_column(String(10), default="")  # the Beijing date for daily limits, else ""
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[VoucherStatus] = mapped_column(_enum(VoucherStatus), default=VoucherStatus.AVAILABLE)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # the claim form's one-time token

    campaign: Mapped[Campaign] = relationship()
    membership: Mapped[Membership] = relationship()


class Redemption(db.Model):
    """One bill at a merchant on which a member's offer and/or voucher was used. Undoing keeps the row."""

    __tablename__ = "redemption"
    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key", name="uq_redemption_idempotency"),
        # The database's "once": at most one redemption of a voucher that has not been undone.
        Index("uq_redemption_live_voucher", "voucher_id", unique=True,
              sqlite_where=text("undone_at IS NULL"), postgresql_where=text("undone_at IS NULL")),
        Index("ix_redemption_member_offer_day", "membership_id", "offer_id", "local_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("voucher.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"))
    bill_fen: Mapped[int] = mapped_column(Integer)
    offer_saving_fen: Mapped[int] = mapped_column(Integer, default=0)
    voucher_saving_fen: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(10))  # counter (the staff page) or till (the terminal API)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    request_digest: Mapped[str] = mapped_column(String(64), default="")  # what the key was first sent with
    local_day: Mapped[date] = mapped_column(Date)  # the Beijing date, for offers' daily and monthly limits
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    merchant: Mapped[Merchant] = relationship()
    membership: Mapped[Membership] = relationship()
    voucher: Mapped[Voucher | None] = relationship()
    offer: Mapped[Offer | None] = relationship()

    @property
    def saving_fen(self) -> int:
        return self.offer_saving_fen + self.voucher_saving_fen

    @property
    def paid_fen(self) -> int:
        return self.bill_fen - self.saving_fen


class BenefitEvent(db.Model):
    """The benefits audit trail, append-only: sign-ups decided, roster imports, issues, claims, redemptions,
    undos."""

    __tablename__ = "benefit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("voucher.id"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemption.id"))
    detail: Mapped[str] = mapped_column(String(255), default="")
