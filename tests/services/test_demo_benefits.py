"""The demo's member benefits: merchants a walk from the demo stations, a roster, campaigns, and a demo member whose
wallet shows every state, loaded through the real services so that every total agrees."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal import demo
from portal.extensions import db
from portal.models import (
    Campaign,
    LimitPeriod,
    Membership,
    MembershipStatus,
    Merchant,
    MerchantCategory,
    Offer,
    Redemption,
    Station,
    User,
    Voucher,
)
from portal.services import benefits, geo, members, merchants, stations, users
from tests.conftest import NOW


@pytest.fixture
def loaded(ctx):
    result = demo.load(NOW, ["44"])
    assert result.benefits is not None
    return result


def _member() -> Membership:
    return members.of_user(users.find_user("19900000101"))


def test_the_demo_member_has_an_active_card_and_vouchers_in_every_state(loaded):
    member = _member()
    assert member.number == "GZ2024000123" and member.status is MembershipStatus.ACTIVE
    assert member.tag == "delivery" and members.is_valid(member, NOW) and member.valid_until == date(2027, 12, 31)
    wallet = benefits.wallet(member, NOW)
    assert sorted(v.campaign.name for v in wallet["available"]) == ["一元观影", "夏季清凉券"]
    assert [v.campaign.name for v in wallet["used"]] == ["夏季清凉券"]
    assert [v.campaign.name for v in wallet["expired"]] == ["国庆加油券"] and wallet["expired"][0].valid_until < NOW
    assert wallet["upcoming"] == []
    # Today's cooling voucher lasts to the end of the Beijing day, the cinema one to the campaign's end.
    today = {v.campaign.name: v for v in wallet["available"]}
    assert today["夏季清凉券"].valid_until == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert today["一元观影"].valid_until == benefits.campaign_by_name("一元观影").ends_at


def test_the_used_voucher_is_a_real_redemption_with_a_saving_at_the_cashiers_merchant(loaded):
    member, cashier = _member(), users.find_user("19900000301")
    eatery = merchants.of_staff(cashier)
    used = benefits.wallet(member, NOW)["used"][0]
    redemption = db.session.scalar(select(Redemption).where(Redemption.voucher_id == used.id))
    assert redemption.merchant_id == eatery.id and redemption.staff_user_id == cashier.id
    assert (redemption.bill_fen, redemption.offer_saving_fen, redemption.voucher_saving_fen) == (2600, 260, 199)
    assert benefits.savings(member) == 260 + 199 + 1000  # and ¥10 off a fuel bill last week
    summer = {t.campaign.name: t for t in benefits.campaign_totals()}["夏季清凉券"]
    assert (summer.issued, summer.redeemed, summer.spent_fen) == (2, 1, 199)
    by_merchant = {t.merchant.id: t for t in benefits.merchant_totals()}
    assert (by_merchant[eatery.id].redemptions, by_merchant[eatery.id].voucher_savings_fen) == (1, 199)
    assert sum(t.redemptions for t in by_merchant.values()) == 2  # the lunch and the fuel, nothing elsewhere
    # At the counter the card shows today's cooling voucher, which the eatery takes; the fuel voucher is gone.
    checkout = benefits.checkout(eatery, member, NOW)
    assert checkout.valid and [v.campaign.name for v in checkout.vouchers] == ["夏季清凉券"]
    offered = {o.campaign.name: o for o in benefits.offerings(member, NOW)}
    assert offered["夏季清凉券"].reason is not None and offered["一元观影"].reason is None  # one more film


def test_merchants_of_every_category_are_a_walk_from_a_demo_station(loaded):
    found = list(db.session.scalars(select(Merchant)))
    assert len(found) == 12 and {m.category for m in found} == set(MerchantCategory)
    points = [(s.lat, s.lng) for s in db.session.scalars(select(Station))]
    for merchant in found:
        nearest = min(geo.geodesic_m(merchant.lat, merchant.lng, lat, lng) for lat, lng in points)
        assert nearest <= 800, (merchant.name, nearest)
        assert 1 <= len(merchant.offers) <= 2 and all(o.terms for o in merchant.offers)
    offers = list(db.session.scalars(select(Offer)))
    assert any(o.min_spend_fen for o in offers) and any(o.per_day for o in offers) and any(o.per_month for o in offers)
    assert {o.kind.value for o in offers} == {"percent", "fixed"}
    # The station manager's own stations have several merchants within a kilometre.
    manager = users.find_user("19900000201")
    for station in stations.managed_by(manager):
        assert len(merchants.nearby(station.lat, station.lng, radius_m=1_000)) >= 3


def test_the_campaigns_are_as_the_union_runs_them(loaded):
    summer, cinema = benefits.campaign_by_name("夏季清凉券"), benefits.campaign_by_name("一元观影")
    assert (summer.amount_fen, summer.tag, summer.category, summer.limit_period) == (
        199, "delivery", MerchantCategory.CATERING, LimitPeriod.DAY)
    assert (summer.per_member, summer.voucher_days, summer.stock) == (1, 1, 5_000)
    assert summer.starts_at <= NOW < summer.ends_at and cinema.starts_at <= NOW < cinema.ends_at
    assert (cinema.amount_fen, cinema.min_spend_fen, cinema.per_member, cinema.stock, cinema.tag) == (
        3_000, 3_100, 2, 500, None)
    assert benefits.campaign_by_name("国庆加油券").ends_at < NOW


def test_a_sign_up_waits_for_the_administrator(loaded):
    waiting = members.pending()
    assert [(m.number, m.user.phone) for m in waiting] == [("GZ2025000888", "19900000102")]
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 31  # the roster and the sign-up
    admin = users.find_user("19900000009")
    approved = members.decide(waiting[0].id, True, admin, NOW, tag="courier", valid_until=date(2027, 12, 31))
    assert members.is_valid(approved, NOW)


def test_loading_again_changes_nothing(loaded):
    tables = (User, Merchant, Offer, Membership, Campaign, Voucher, Redemption)

    def counts():
        return [db.session.scalar(select(func.count()).select_from(t)) for t in tables]

    before = counts()
    again = demo.load(NOW, ["44"])
    assert again.benefits is None and counts() == before


def test_the_demo_works_whenever_it_is_loaded(ctx):
    """Late on a leap day two years on: the windows move with the clock and the roster stays valid."""
    late = datetime(2028, 2, 29, 15, 50, tzinfo=UTC)  # 23:50 in Beijing
    demo.load(late, ["44"])
    member = _member()
    assert members.is_valid(member, late) and member.valid_until == date(2029, 12, 31)
    wallet = benefits.wallet(member, late)
    assert [len(wallet[s]) for s in ("available", "used", "expired")] == [2, 1, 1]
