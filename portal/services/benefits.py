"""Subsidy campaigns, vouchers and redemption (核销), with savings and budget figures.

Every "at most" is kept by the database, not by reading and then writing in Python:
- stock: `UPDATE campaign SET issued = issued + 1 WHERE issued < stock …`, one row per voucher;
- a member's limit: the member's n-th voucher of a campaign (and day) is unique, n ≤ the limit;
- once: a voucher goes from available to used only by `UPDATE … WHERE status = 'available'`, and a partial unique
  index allows one live redemption per voucher;
- retries: a merchant's Idempotency-Key is unique, and a retry finds the first redemption.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.database import begin_write, command
from portal.exceptions import AlreadyRedeemed, Conflict, InvalidInput, NotFound, NotRedeemable, PermissionDenied
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    BenefitEvent,
    Campaign,
    LimitPeriod,
    Membership,
    MembershipStatus,
    Merchant,
    MerchantCategory,
    Offer,
    Redemption,
    User,
    Voucher,
    VoucherStatus,
)
from portal.services import csvfile, members, merchants, users
from portal.services.sla import SHANGHAI, local_date
from portal.vocabulary import MERCHANT_CATEGORY_LABELS, OCCUPATION_LABELS

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at a till
CODE_LENGTH = 12
UNDO_WINDOW = timedelta(minutes=5)
MAX_ISSUE = 100


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper()[:40] if ch.isalnum())


def show_code(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), SHANGHAI)


def _event(action: str, now: datetime, actor: User | None = None, **ids) -> None:
    db.session.add(BenefitEvent(at=now, action=action, actor_id=actor.id if actor else None, **ids))


# -------------------------------------------------------------------------------------------- campaigns

@dataclass(frozen=True)
class CampaignData:
    name: str
    amount_fen: int
    stock: int
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    min_spend_fen: int = 0
    tag: str | None = None
    category: MerchantCategory | None = None
    merchant_id: int | None = None
    per_member: int = 1
    limit_period: LimitPeriod = LimitPeriod.CAMPAIGN
    budget_fen: int | None = None  # stock × amount unless smaller
    voucher_days: int = 0

    def problems(self) -> dict[str, str]:
        found = {}
        if not 1 <= len(self.name.strip()) <= 64:
            found["name"] = _l("Enter a name of at most 64 characters.")
        if not 1 <= self.amount_fen <= merchants.MAX_BILL_FEN:
            found["amount"] = _l("A face value of ¥0.01 to ¥100,000.")
        if not 1 <= self.stock <= 10_000_000:
            found["stock"] = _l("A stock of 1 to 10,000,000 vouchers.")
        if not 1 <= self.per_member <= 100:
            found["per_member"] = _l("A limit of 1 to 100 per member.")
        if self.ends_at <= self.starts_at:
            found["ends_at"] = _l("The campaign must end after it starts.")
        if self.tag is not None and self.tag not in members.OCCUPATIONS:
            found["tag"] = _l("Choose an occupation from the list.")
        if self.budget_fen is not None and not self.amount_fen <= self.budget_fen <= self.amount_fen * self.stock:
            found["budget"] = _l("The budget must pay for at least one voucher and at most the whole stock.")
        if not 0 <= self.voucher_days <= 366 or not 0 <= self.min_spend_fen <= merchants.MAX_BILL_FEN:
            found["voucher_days"] = _l("Vouchers last 0 (to the campaign's end) to 366 days.")
        return found


@command
def create_campaign(data: CampaignData, now: datetime, admin: User | None = None) -> Campaign:
    if problems := data.problems():
        raise InvalidInput(fields=problems)
    if db.session.scalar(select(Campaign.id).where(Campaign.name == data.name.strip())) is not None:
        raise InvalidInput(fields={"name": _l("A campaign with this name already exists.")})
    if data.merchant_id is not None:
        merchants.get(data.merchant_id)
    # The budget bounds the stock: a voucher is issued only while the budget can pay for every one issued.
    budget = data.budget_fen or data.amount_fen * data.stock
    campaign = Campaign(
        name=data.name.strip(), description=data.description.strip(), amount_fen=data.amount_fen,
        min_spend_fen=data.min_spend_fen, tag=data.tag, category=data.category, merchant_id=data.merchant_id,
        stock=min(data.stock, budget // data.amount_fen), issued=0, per_member=data.per_member,
        limit_period=data.limit_period, budget_fen=budget, starts_at=data.starts_at, ends_at=data.ends_at,
        voucher_days=data.voucher_days, active=True, created_at=now)
    db.session.add(campaign)
    db.session.flush()
    _event("campaign", now, admin, campaign_id=campaign.id)
    db.session.commit()
    return campaign


def campaign_by_name(name: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == (name or "").strip()))
    if campaign is None:
        raise NotFound(_l("No campaign has this name."))
    return campaign


@command
def stop_campaign(campaign_id: int, admin: User, now: datetime) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    campaign.active = False
    _event("stopped", now, admin, campaign_id=campaign.id)
    db.session.commit()


def _period(campaign: Campaign, now: datetime) -> str:
    return local_date(now).isoformat() if campaign.limit_period is LimitPeriod.DAY else ""


def _claimed(campaign: Campaign, membership_id: int, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.campaign_id == campaign.id, Voucher.membership_id == membership_id,
        Voucher.period == _period(campaign, now))) or 0


@dataclass(frozen=True)
class Offering:
    """A campaign as one member sees it: may they claim now, and if not, why not."""

    campaign: Campaign
    claimed: int
    reason: str | None  # None: claimable

    @property
    def left(self) -> int:
        return max(0, self.campaign.stock - self.campaign.issued)


def _refusal(campaign: Campaign, membership: Membership, claimed: int, now: datetime):
    if not members.is_valid(membership, now):
        return _l("Your membership is not active, so you cannot claim vouchers.")
    if campaign.tag is not None and membership.tag != campaign.tag:
        return _l("This campaign is for %(who)s only.", who=OCCUPATION_LABELS[campaign.tag])
    if not campaign.active or not campaign.starts_at <= now < campaign.ends_at:
        return _l("This campaign is not open now.")
    if claimed >= campaign.per_member:
        return (_l("You have claimed today's vouchers. Come back tomorrow.")
                if campaign.limit_period is LimitPeriod.DAY else _l("You have claimed all the vouchers you may."))
    if campaign.issued >= campaign.stock:
        return _l("All vouchers of this campaign have been claimed.")
    return None


def offerings(membership: Membership, now: datetime) -> list[Offering]:
    """The campaigns open now that a member can see (theirs by occupation, or everyone's)."""
    found = db.session.scalars(select(Campaign).where(
        Campaign.active, Campaign.starts_at <= now, Campaign.ends_at > now,
        (Campaign.tag.is_(None)) | (Campaign.tag == membership.tag)).order_by(Campaign.ends_at))
    return [Offering(c, n, _refusal(c, membership, n, now)) for c in found
            for n in [_claimed(c, membership.id, now)]]


def _voucher(campaign: Campaign, membership: Membership, seq: int, now: datetime, key: str | None) -> Voucher:
    until = campaign.ends_at
    if campaign.voucher_days:
        until = min(until, _end_of_day(local_date(now) + timedelta(days=campaign.voucher_days - 1)))
    return Voucher(code=new_code(), campaign_id=campaign.id, membership_id=membership.id,
                   period=_period(campaign, now), seq=seq, status=VoucherStatus.AVAILABLE, issued_at=now,
                   valid_from=now, valid_until=until, claim_key=key)


def _take_stock(campaign: Campaign, now: datetime) -> bool:
    """One voucher from the stock, if any is left and the campaign is open: the database decides."""
    taken = db.session.execute(update(Campaign).where(
        Campaign.id == campaign.id, Campaign.active, Campaign.issued < Campaign.stock,
        Campaign.starts_at <= now, Campaign.ends_at > now).values(issued=Campaign.issued + 1))
    return taken.rowcount == 1


def claim(membership: Membership, campaign_id: int, now: datetime, key: str | None = None) -> Voucher:
    """A member claims a voucher. A repeated claim form (double tap, retry) returns the first claim's voucher."""
    begin_write()
    if key and (done := db.session.scalar(select(Voucher).where(Voucher.claim_key == key))) is not None:
        if done.membership_id != membership.id:
            raise InvalidInput(_l("This form was already used. Please reload the page."))
        return done
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    claimed = _claimed(campaign, membership.id, now)
    if reason := _refusal(campaign, membership, claimed, now):
        raise (Conflict if claimed or campaign.issued >= campaign.stock else PermissionDenied)(reason)
    if not _take_stock(campaign, now):
        db.session.rollback()
        raise Conflict(_l("All vouchers of this campaign have been claimed."))
    voucher = _voucher(campaign, membership, claimed + 1, now, key)
    db.session.add(voucher)
    try:
        db.session.flush()
    except IntegrityError:  # the same member's other claim took this number first: the limit holds
        db.session.rollback()
        raise Conflict(_l("You have claimed all the vouchers you may.")) from None
    _event("claimed", now, membership.user, membership_id=membership.id, campaign_id=campaign.id,
           voucher_id=voucher.id)
    db.session.commit()
    return voucher


@command
def issue(phone: str, campaign_name: str, count: int, now: datetime, admin: User | None = None) -> list[Voucher]:
    """An administrator hands vouchers to a member, outside the claim limits but never beyond the stock."""
    if not 1 <= count <= MAX_ISSUE:
        raise InvalidInput(fields={"count": _l("Issue 1 to %(num)d vouchers at a time.", num=MAX_ISSUE)})
    user = users.find_user(users.normalise_phone(phone))
    membership = members.of_user(user) if user else None
    if membership is None or not members.is_valid(membership, now):
        raise InvalidInput(fields={"phone": _l("No active member has this mobile number.")})
    campaign = campaign_by_name(campaign_name)
    period = _period(campaign, now)
    seq = db.session.scalar(select(func.max(Voucher.seq)).where(
        Voucher.campaign_id == campaign.id, Voucher.membership_id == membership.id, Voucher.period == period)) or 0
    issued = []
    for n in range(count):
        if not _take_stock(campaign, now):
            db.session.rollback()
            raise Conflict(_l("Only %(num)d vouchers are left, or the campaign is not open.",
                              num=max(0, campaign.stock - campaign.issued)))
        issued.append(_voucher(campaign, membership, seq + n + 1, now, None))
        db.session.add(issued[-1])
        db.session.flush()
        _event("issued", now, admin, membership_id=membership.id, campaign_id=campaign.id, voucher_id=issued[-1].id)
    db.session.commit()
    return issued


# ---------------------------------------------------------------------------------------------- wallet

def state(voucher: Voucher, now: datetime) -> str:
    """available, used, expired or upcoming, as the member's wallet groups them."""
    if voucher.status is VoucherStatus.USED:
        return "used"
    if now >= voucher.valid_until or not voucher.campaign.active:
        return "expired"
    return "available" if now >= voucher.valid_from else "upcoming"


def wallet(membership: Membership, now: datetime) -> dict[str, list[Voucher]]:
    found = db.session.scalars(select(Voucher).where(Voucher.membership_id == membership.id)
                               .order_by(Voucher.valid_until, Voucher.id))
    groups: dict[str, list[Voucher]] = {"available": [], "upcoming": [], "used": [], "expired": []}
    for voucher in found:
        groups[state(voucher, now)].append(voucher)
    groups["used"].reverse()
    groups["expired"].reverse()
    return groups


def savings(membership: Membership) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Redemption.offer_saving_fen
                                                           + Redemption.voucher_saving_fen), 0))
                             .where(Redemption.membership_id == membership.id, Redemption.undone_at.is_(None)))


def history(membership: Membership, limit: int = 20) -> list[Redemption]:
    return list(db.session.scalars(select(Redemption).where(Redemption.membership_id == membership.id)
                                   .order_by(Redemption.created_at.desc(), Redemption.id.desc()).limit(limit)))


# ------------------------------------------------------------------------------------------ redemption

def usable_here(voucher: Voucher, merchant: Merchant) -> bool:
    campaign = voucher.campaign
    return (campaign.merchant_id in (None, merchant.id)) and (campaign.category in (None, merchant.category))


@dataclass(frozen=True)
class Checkout:
    """What a cashier sees once the member's card is read: is it valid, which offers and vouchers apply."""

    membership: Membership
    valid: bool
    offers: list[Offer]
    vouchers: list[Voucher]


def checkout(merchant: Merchant, membership: Membership, now: datetime) -> Checkout:
    valid = members.is_valid(membership, now)
    vouchers = [v for v in wallet(membership, now)["available"] if usable_here(v, merchant)] if valid else []
    offers = [o for o in merchants.live_offers(merchant.id, now) if _uses_left(o, membership.id, now)] if valid else []
    return Checkout(membership, valid, offers, vouchers)


def _uses_left(offer: Offer, membership_id: int, now: datetime) -> bool:
    today = local_date(now)
    live = (Redemption.offer_id == offer.id, Redemption.membership_id == membership_id, Redemption.undone_at.is_(None))
    if offer.per_day and db.session.scalar(select(func.count()).select_from(Redemption).where(
            *live, Redemption.local_day == today)) >= offer.per_day:
        return False
    return not (offer.per_month and db.session.scalar(select(func.count()).select_from(Redemption).where(
        *live, Redemption.local_day >= today.replace(day=1), Redemption.local_day <= today)) >= offer.per_month)


def saving(bill_fen: int, offer: Offer | None, voucher: Voucher | None) -> tuple[int, int]:
    """What an offer and a voucher take off one bill, in that order (the voucher from what the offer leaves):
    the one computation redemption records and the checkout's preview shows. Below a minimum spend, nothing."""
    offer_fen = merchants.offer_saving(offer, bill_fen) if offer else 0
    if voucher is None or bill_fen < voucher.campaign.min_spend_fen:
        return offer_fen, 0
    return offer_fen, min(voucher.campaign.amount_fen, bill_fen - offer_fen)


@dataclass(frozen=True)
class Choice:
    """An offer and a voucher for one bill, and what the member saves and pays with them."""

    bill_fen: int
    offer: Offer | None
    voucher: Voucher | None
    offer_saving_fen: int
    voucher_saving_fen: int

    @property
    def saving_fen(self) -> int:
        return self.offer_saving_fen + self.voucher_saving_fen

    @property
    def to_pay_fen(self) -> int:
        return self.bill_fen - self.saving_fen


def choice(bill_fen: int, offer: Offer | None, voucher: Voucher | None) -> Choice:
    return Choice(bill_fen, offer, voucher, *saving(bill_fen, offer, voucher))


def best_choice(bill_fen: int, offers: list[Offer], vouchers: list[Voucher]) -> Choice:
    """The offer and voucher (one of each at most, as a redemption allows) that save the member most on this
    bill. On a tie the fewer things used, then an offer rather than a voucher, then the earlier in the lists
    (vouchers come soonest-expiring first): a voucher that would add nothing stays in the wallet."""
    options = [choice(bill_fen, o, v) for v in [None, *vouchers] for o in [None, *offers]]
    return max(options, key=lambda c: (c.saving_fen, -((c.offer_saving_fen > 0) + (c.voucher_saving_fen > 0))))


@dataclass(frozen=True)
class Sale:
    """One bill to redeem against: a voucher (by code), an offer, or both."""

    bill_fen: int
    voucher_code: str = ""
    offer_id: int | None = None
    membership_id: int | None = None  # the card that was read; a voucher must be this member's

    def digest(self) -> str:
        text = f"{self.bill_fen}|{normalise_code(self.voucher_code)}|{self.offer_id}|{self.membership_id}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Result:
    redemption: Redemption
    created: bool  # False: a retry, answered with the first redemption


def _replay(merchant: Merchant, key: str | None, sale: Sale) -> Result | None:
    if not key:
        return None
    done = db.session.scalar(select(Redemption).where(Redemption.merchant_id == merchant.id,
                                                      Redemption.idempotency_key == key))
    if done is not None and done.request_digest != sale.digest():
        raise InvalidInput(fields={"Idempotency-Key": _l("This key was already used for another redemption.")})
    return Result(done, False) if done is not None else None


def _why_not(voucher: Voucher, now: datetime) -> Exception:
    if voucher.status is VoucherStatus.USED:
        used = voucher.used_at.astimezone(SHANGHAI)
        return AlreadyRedeemed(_l("This voucher was already used on %(day)s at %(time)s.", day=used.strftime(
            "%Y-%m-%d"), time=used.strftime("%H:%M")), used_at=voucher.used_at)
    if now < voucher.valid_from:
        return NotRedeemable(_l("This voucher cannot be used before %(when)s.",
                                when=voucher.valid_from.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")))
    if not voucher.campaign.active:
        return NotRedeemable(_l("This voucher's campaign has been stopped."))
    return NotRedeemable(_l("This voucher expired on %(when)s.",
                            when=voucher.valid_until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")))


def _elsewhere(voucher: Voucher):
    """Whose voucher it is, when it is not this merchant's to take."""
    campaign = voucher.campaign
    if campaign.merchant_id is not None:
        return _l("This voucher cannot be used at this merchant: it is for %(merchant)s only.",
                  merchant=db.session.get(Merchant, campaign.merchant_id).name)
    return _l("This voucher cannot be used at this merchant: it is for %(category)s only.",
              category=MERCHANT_CATEGORY_LABELS[campaign.category])


def _not_valid(membership: Membership):
    """Why a membership is not valid: it ended (on which day), or it is not active."""
    if membership.status is MembershipStatus.ACTIVE and membership.valid_until is not None:
        return _l("The member's membership is not valid: it ended on %(day)s.",
                  day=membership.valid_until.isoformat())
    return _l("The member's membership is not valid: it is not active.")


def _use_voucher(merchant: Merchant, sale: Sale, now: datetime) -> Voucher:
    voucher = db.session.scalar(select(Voucher).where(Voucher.code == normalise_code(sale.voucher_code)))
    if voucher is None:
        raise NotFound(_l("No voucher has this code. Check it and type it again."))
    if sale.membership_id is not None and voucher.membership_id != sale.membership_id:
        raise NotRedeemable(_l("This voucher belongs to another member."))
    if not usable_here(voucher, merchant):
        raise NotRedeemable(_elsewhere(voucher))
    if sale.bill_fen < voucher.campaign.min_spend_fen:
        raise NotRedeemable(_l("This voucher needs a bill of at least ¥%(amount).2f.",
                               amount=voucher.campaign.min_spend_fen / 100))
    if not members.is_valid(voucher.membership, now):
        raise NotRedeemable(_not_valid(voucher.membership))
    used = db.session.execute(update(Voucher).where(
        Voucher.id == voucher.id, Voucher.status == VoucherStatus.AVAILABLE, Voucher.valid_from <= now,
        Voucher.valid_until > now,
        Voucher.campaign_id.in_(select(Campaign.id).where(Campaign.active))).values(
        status=VoucherStatus.USED, used_at=now))
    if used.rowcount != 1:
        db.session.refresh(voucher)
        raise _why_not(voucher, now)
    return voucher


def _use_offer(merchant: Merchant, offer_id: int, membership_id: int, bill_fen: int, now: datetime) -> Offer:
    offer = next((o for o in merchants.live_offers(merchant.id, now) if o.id == offer_id), None)
    if offer is None:
        raise NotRedeemable(_l("This offer is not available at this merchant today."))
    if bill_fen < offer.min_spend_fen:
        raise NotRedeemable(_l("This offer needs a bill of at least ¥%(amount).2f.", amount=offer.min_spend_fen / 100))
    # Lock the member's row, so that their redemptions are counted one at a time.
    db.session.execute(update(Membership).where(Membership.id == membership_id).values(last_redeemed_at=now))
    if not _uses_left(offer, membership_id, now):
        raise NotRedeemable(_l("The member has used this offer as often as it allows for now."))
    return offer


def redeem(merchant: Merchant, sale: Sale, now: datetime, *, staff: User | None = None, channel: str = "counter",
           key: str | None = None) -> Result:
    """Redeem once. A used voucher is a 409 (AlreadyRedeemed); a retry with the same key gets the first result."""
    if key is not None and not 1 <= len(key) <= 64:
        raise InvalidInput(fields={"Idempotency-Key": _l("Use 1 to 64 characters.")})
    if not 1 <= sale.bill_fen <= merchants.MAX_BILL_FEN:
        raise InvalidInput(fields={"bill": _l("Enter the bill: more than ¥0 and at most ¥100,000.")})
    if not sale.voucher_code and sale.offer_id is None:
        raise InvalidInput(fields={"voucher": _l("Choose an offer or a voucher to use.")})
    begin_write()
    if (first := _replay(merchant, key, sale)) is not None:
        return first
    try:
        voucher = _use_voucher(merchant, sale, now) if sale.voucher_code else None
        membership_id = voucher.membership_id if voucher else sale.membership_id
        if membership_id is None:
            raise InvalidInput(fields={"member": _l("Read the member's card first.")})
        if not voucher and not members.is_valid(holder := members.get(membership_id), now):
            raise NotRedeemable(_not_valid(holder))
        offer = _use_offer(merchant, sale.offer_id, membership_id, sale.bill_fen, now) if sale.offer_id else None
        offer_saving, voucher_saving = saving(sale.bill_fen, offer, voucher)
        redemption = Redemption(
            merchant_id=merchant.id, membership_id=membership_id, voucher_id=voucher.id if voucher else None,
            offer_id=offer.id if offer else None, bill_fen=sale.bill_fen, offer_saving_fen=offer_saving,
            voucher_saving_fen=voucher_saving, channel=channel, staff_user_id=staff.id if staff else None,
            idempotency_key=key, request_digest=sale.digest(), local_day=local_date(now), created_at=now)
        db.session.add(redemption)
        db.session.flush()
    except Exception as error:
        db.session.rollback()
        # On PostgreSQL a retry with the same key waits for the first to commit, then finds the voucher used:
        # it is that first redemption's retry, not a second redemption.
        if isinstance(error, AlreadyRedeemed | IntegrityError) and (first := _replay(merchant, key, sale)):
            return first
        if isinstance(error, IntegrityError):
            raise AlreadyRedeemed() from None
        raise
    _event("redeemed", now, staff, membership_id=membership_id, merchant_id=merchant.id,
           voucher_id=redemption.voucher_id, redemption_id=redemption.id)
    db.session.commit()
    return Result(redemption, True)


def redemption_of(merchant: Merchant, redemption_id: int) -> Redemption:
    """One of this merchant's redemptions; another merchant's is a 404, as if it did not exist."""
    found = db.session.scalar(select(Redemption).where(Redemption.id == redemption_id,
                                                       Redemption.merchant_id == merchant.id))
    if found is None:
        raise NotFound()
    return found


def can_undo(redemption: Redemption, now: datetime) -> bool:
    return redemption.undone_at is None and now - redemption.created_at <= UNDO_WINDOW


@command
def undo(merchant: Merchant, redemption_id: int, now: datetime, staff: User | None = None) -> Redemption:
    """Within five minutes, by the merchant that redeemed: the voucher becomes available again."""
    redemption = redemption_of(merchant, redemption_id)
    if now - redemption.created_at > UNDO_WINDOW:
        raise Conflict(_l("A redemption can be undone only within 5 minutes."))
    undone = db.session.execute(update(Redemption).where(Redemption.id == redemption.id,
                                                         Redemption.undone_at.is_(None))
                                .values(undone_at=now, undone_by_id=staff.id if staff else None))
    if undone.rowcount != 1:
        raise Conflict(_l("This redemption was already undone."))
    if redemption.voucher_id is not None:
        db.session.execute(update(Voucher).where(Voucher.id == redemption.voucher_id,
                                                 Voucher.status == VoucherStatus.USED)
                           .values(status=VoucherStatus.AVAILABLE, used_at=None))
    _event("undone", now, staff, membership_id=redemption.membership_id, merchant_id=merchant.id,
           voucher_id=redemption.voucher_id, redemption_id=redemption.id)
    db.session.commit()
    db.session.refresh(redemption)
    return redemption


def recent(merchant: Merchant, limit: int = 20) -> list[Redemption]:
    return list(db.session.scalars(select(Redemption).where(Redemption.merchant_id == merchant.id)
                                   .order_by(Redemption.id.desc()).limit(limit)))


# ---------------------------------------------------------------------------------------------- totals

@dataclass(frozen=True)
class CampaignTotal:
    campaign: Campaign
    issued: int
    redeemed: int
    spent_fen: int  # the union's money: vouchers' savings on live redemptions

    @property
    def budget_left_fen(self) -> int:
        return self.campaign.budget_fen - self.spent_fen


@dataclass(frozen=True)
class MerchantTotal:
    merchant: Merchant
    redemptions: int
    bills_fen: int
    offer_savings_fen: int
    voucher_savings_fen: int


_LIVE = Redemption.undone_at.is_(None)


def campaign_totals() -> list[CampaignTotal]:
    spent = (select(Voucher.campaign_id, func.count().label("n"), func.sum(Redemption.voucher_saving_fen).label("fen"))
             .join(Redemption, Redemption.voucher_id == Voucher.id).where(_LIVE)
             .group_by(Voucher.campaign_id).subquery())
    rows = db.session.execute(select(Campaign, func.coalesce(spent.c.n, 0), func.coalesce(spent.c.fen, 0))
                              .outerjoin(spent, spent.c.campaign_id == Campaign.id).order_by(Campaign.id.desc()))
    return [CampaignTotal(c, c.issued, n, fen) for c, n, fen in rows]


def merchant_totals() -> list[MerchantTotal]:
    live = case((Redemption.id.is_not(None) & _LIVE, 1), else_=0)  # the outer join's empty row is no redemption
    rows = db.session.execute(
        select(Merchant, func.coalesce(func.sum(live), 0),
               func.coalesce(func.sum(live * Redemption.bill_fen), 0),
               func.coalesce(func.sum(live * Redemption.offer_saving_fen), 0),
               func.coalesce(func.sum(live * Redemption.voucher_saving_fen), 0))
        .outerjoin(Redemption, Redemption.merchant_id == Merchant.id).group_by(Merchant.id).order_by(Merchant.name))
    return [MerchantTotal(*row) for row in rows]


def _money(fen: int) -> str:
    return f"{fen / 100:.2f}"


def totals_csv() -> str:
    """Both tables in one UTF-8 CSV (with a BOM, so Excel opens it as UTF-8), money in yuan."""
    rows = [["campaign", "face_value_yuan", "stock", "issued", "redeemed", "budget_yuan", "spent_yuan",
             "budget_left_yuan"]]
    rows += [[t.campaign.name, _money(t.campaign.amount_fen), t.campaign.stock, t.issued, t.redeemed,
              _money(t.campaign.budget_fen), _money(t.spent_fen), _money(t.budget_left_fen)] for t in campaign_totals()]
    rows += [[], ["merchant", "category", "redemptions", "bills_yuan", "offer_savings_yuan", "voucher_savings_yuan"]]
    rows += [[t.merchant.name, t.merchant.category.value, t.redemptions, _money(t.bills_fen),
              _money(t.offer_savings_fen), _money(t.voucher_savings_fen)] for t in merchant_totals()]
    return csvfile.write(rows)
