"""Partner merchants: their accounts, staff and till keys, where they are (found with the stations' geo search),
and their standing member offers."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import or_, select

from portal.database import command
from portal.exceptions import InvalidInput, NotFound, NotRedeemable
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Membership, Merchant, MerchantCategory, MerchantStaff, Offer, OfferKind, Role, User
from portal.services import geo, members, users
from portal.services.sla import local_date
from portal.settings import setting

MAX_BILL_FEN = 10_000_000  # ¥100,000: beyond any bill a member discount is meant for; a typo or an attack
KEY_PREFIX = "wspm_"
CHECKOUT_SECONDS = 600  # from reading a member's card to confirming the bill: longer than the card code lives


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def category_of(raw: str) -> MerchantCategory:
    try:
        return MerchantCategory(raw)
    except ValueError:
        raise InvalidInput(fields={"category": _l("Choose one of: %(names)s",
                                                  names=", ".join(c.value for c in MerchantCategory))}) from None


@command
def create(*, name: str, lat: float, lng: float, category: str, now: datetime, address: str = "",
           phone: str = "", description: str = "") -> tuple[Merchant, str]:
    """A merchant and its till's API key, which is returned once and stored only as a digest."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(fields={"name": _l("Enter a name of at most 100 characters.")})
    if geo.degrees(lat, 90) is None or geo.degrees(lng, 180) is None:
        raise InvalidInput(fields={"lat": _l("Give a latitude within ±90 and a longitude within ±180.")})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    merchant = Merchant(name=name, category=category_of(category), lat=float(lat), lng=float(lng),
                        address=address.strip()[:200], phone=phone.strip()[:20], description=description.strip(),
                        api_key_hash=_digest(key), active=True, created_at=now)
    db.session.add(merchant)
    db.session.commit()
    return merchant, key


@command
def new_key(merchant_id: int) -> str:
    """Replace a till's key (a leaked one stops working at once)."""
    merchant = get(merchant_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    merchant.api_key_hash = _digest(key)
    db.session.commit()
    return key


def by_key(key: str | None) -> Merchant | None:
    if not key or len(key) > 100:
        return None
    return db.session.scalar(select(Merchant).where(Merchant.api_key_hash == _digest(key), Merchant.active))


@command
def add_staff(merchant_id: int, phone: str, now: datetime, *, password: str | None = None, name: str = "") -> User:
    """Make an account a merchant's staff; with a password, a new merchant account is created."""
    merchant = get(merchant_id)
    user = users.find_user(users.normalise_phone(phone))
    if user is None and password:
        user = users.add_user(phone=phone, password=password, role=Role.MERCHANT, name=name, now=now)
    if user is None or user.role is not Role.MERCHANT:
        raise InvalidInput(fields={"phone": _l("No merchant account has this mobile number.")})
    db.session.merge(MerchantStaff(user_id=user.id, merchant_id=merchant.id))
    db.session.commit()
    return user


def get(merchant_id: int) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None or not merchant.active:
        raise NotFound()
    return merchant


def of_staff(user: User) -> Merchant:
    """The merchant a cashier works for; 404 for anyone else, so no page reveals another merchant."""
    merchant = db.session.scalar(select(Merchant).join(MerchantStaff, MerchantStaff.merchant_id == Merchant.id)
                                 .where(MerchantStaff.user_id == user.id, Merchant.active))
    if merchant is None:
        raise NotFound(_l("This account does not work for a partner merchant yet. Ask the union to add it."))
    return merchant


@dataclass(frozen=True)
class Near:
    merchant: Merchant
    distance_m: int


def nearby(lat: float, lng: float, radius_m: float = 5_000, limit: int = 20,
           category: MerchantCategory | None = None) -> list[Near]:
    """Merchants within radius_m of a WGS-84 point, nearest first, by the same search as the stations."""
    south, north, west, east = geo.box(lat, lng, radius_m)
    query = select(Merchant.id, Merchant.lat, Merchant.lng).where(
        Merchant.active, Merchant.lat.between(south, north), Merchant.lng.between(west, east))
    if category is not None:
        query = query.where(Merchant.category == category)
    chosen = geo.rank(lat, lng, db.session.execute(query).all(), radius_m, limit)
    found = {m.id: m for m in db.session.scalars(select(Merchant).where(Merchant.id.in_([i for _, i in chosen])))}
    return [Near(found[i], round(d)) for d, i in chosen]


def listing(category: MerchantCategory | None = None, limit: int = 100) -> list[Merchant]:
    query = select(Merchant).where(Merchant.active).order_by(Merchant.name).limit(limit)
    if category is not None:
        query = query.where(Merchant.category == category)
    return list(db.session.scalars(query))


def navigation_links(merchant: Merchant) -> dict[str, str]:
    return geo.navigation_links(merchant.lat, merchant.lng, merchant.name)


# ---------------------------------------------------------------------------------------------- offers

@dataclass(frozen=True)
class OfferData:
    title: str
    kind: OfferKind
    percent_off: int = 0
    amount_fen: int = 0
    max_saving_fen: int = 0
    min_spend_fen: int = 0
    per_day: int = 0
    per_month: int = 0
    starts_on: date | None = None
    ends_on: date | None = None
    terms: str = ""

    def problems(self) -> dict[str, str]:
        found = {}
        if not 1 <= len(self.title.strip()) <= 100:
            found["title"] = _l("Enter a title of at most 100 characters.")
        if self.kind is OfferKind.PERCENT and not 1 <= self.percent_off <= 90:
            found["percent_off"] = _l("A discount of 1 to 90 percent.")
        if self.kind is OfferKind.FIXED and not 1 <= self.amount_fen <= MAX_BILL_FEN:
            found["amount"] = _l("An amount off of at least ¥0.01.")
        if self.kind is OfferKind.FIXED and self.min_spend_fen and self.amount_fen > self.min_spend_fen:
            found["min_spend"] = _l("The minimum spend must be at least the amount off.")
        for name in ("max_saving_fen", "min_spend_fen"):
            if not 0 <= getattr(self, name) <= MAX_BILL_FEN:
                found[name.removesuffix("_fen")] = _l("Enter an amount between ¥0 and ¥100,000.")
        for name in ("per_day", "per_month"):
            if not 0 <= getattr(self, name) <= 100:
                found[name] = _l("Enter 0 (no limit) to 100.")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            found["ends_on"] = _l("The offer cannot end before it starts.")
        return found


@command
def add_offer(merchant: Merchant, data: OfferData, now: datetime) -> Offer:
    if problems := data.problems():
        raise InvalidInput(fields=problems)
    offer = Offer(merchant_id=merchant.id, title=data.title.strip(), kind=data.kind,
                  percent_off=data.percent_off if data.kind is OfferKind.PERCENT else 0,
                  amount_fen=data.amount_fen if data.kind is OfferKind.FIXED else 0,
                  max_saving_fen=data.max_saving_fen if data.kind is OfferKind.PERCENT else 0,
                  min_spend_fen=data.min_spend_fen, per_day=data.per_day, per_month=data.per_month,
                  starts_on=data.starts_on or local_date(now), ends_on=data.ends_on, terms=data.terms.strip(),
                  active=True, created_at=now)
    db.session.add(offer)
    db.session.commit()
    return offer


@command
def end_offer(merchant: Merchant, offer_id: int) -> None:
    offer = db.session.scalar(select(Offer).where(Offer.id == offer_id, Offer.merchant_id == merchant.id))
    if offer is None:
        raise NotFound()
    offer.active = False
    db.session.commit()


def live_offers(merchant_id: int, now: datetime) -> list[Offer]:
    today = local_date(now)
    return list(db.session.scalars(
        select(Offer).where(Offer.merchant_id == merchant_id, Offer.active, Offer.starts_on <= today,
                            or_(Offer.ends_on.is_(None), Offer.ends_on >= today)).order_by(Offer.id)))


def all_offers(merchant: Merchant) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.merchant_id == merchant.id)
                                   .order_by(Offer.active.desc(), Offer.id.desc())))


def offer_saving(offer: Offer, bill_fen: int) -> int:
    """What the offer takes off a bill: nothing below its minimum spend, never more than the bill."""
    if bill_fen < offer.min_spend_fen:
        return 0
    if offer.kind is OfferKind.FIXED:
        return min(offer.amount_fen, bill_fen)
    saving = bill_fen * offer.percent_off // 100
    return min(saving, offer.max_saving_fen) if offer.max_saving_fen else saving


# -------------------------------------------------------------------------------------------- checkout

def _checkout_serializer(now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(setting("SECRET_KEY"), salt="merchant-checkout",
                                  signer=members._ClockSigner, signer_kwargs={"clock": now})


def checkout_ref(merchant: Merchant, membership: Membership, now: datetime) -> str:
    """The card a cashier read, signed for this merchant: the confirm step trusts it, not a membership id the
    browser could change, and it outlives the card code's minute while the bill is typed."""
    return _checkout_serializer(now).dumps([merchant.id, membership.id])


def read_checkout_ref(merchant: Merchant, ref: str, now: datetime) -> Membership:
    """The membership of a checkout this merchant began within CHECKOUT_SECONDS; NotRedeemable otherwise."""
    try:
        payload = _checkout_serializer(now).loads((ref or "")[:200], max_age=CHECKOUT_SECONDS)
    except SignatureExpired:
        raise NotRedeemable(_l("This checkout is more than 10 minutes old. Read the member's card again.")) from None
    except BadSignature:
        payload = None
    valid = (isinstance(payload, list) and len(payload) == 2 and all(type(n) is int for n in payload)
             and payload[0] == merchant.id)
    membership = db.session.get(Membership, payload[1]) if valid else None
    if membership is None:
        raise NotRedeemable(_l("This checkout could not be read. Read the member's card again."))
    return membership
