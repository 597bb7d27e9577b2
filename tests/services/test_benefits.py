"""Campaigns, claims, vouchers, offers and redemption, through the services with fixed times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.exceptions import AlreadyRedeemed, Conflict, InvalidInput, NotFound, NotRedeemable, PermissionDenied
from portal.extensions import db
from portal.models import (
    BenefitEvent,
    Campaign,
    LimitPeriod,
    MerchantCategory,
    OfferKind,
    Redemption,
    Voucher,
    VoucherStatus,
)
from portal.services import benefits, members, merchants
from portal.services.sla import SHANGHAI
from tests.factories import NOW, PASSWORD, ROSTER_HEADER, roster


@pytest.fixture
def world(ctx):
    """Two members (a delivery rider and a sanitation worker), a restaurant and a cinema."""
    roster(ROSTER_HEADER +
           "GZ0001,张三,广州市总工会,delivery,2020-01-01,2027-12-31\nGZ0002,李四,广州市总工会,sanitation,,\n")
    rider = members.sign_up(phone="13800000001", password=PASSWORD, number="GZ0001", name="张三", now=NOW)
    sweeper = members.sign_up(phone="13800000002", password=PASSWORD, number="GZ0002", name="李四", now=NOW)
    restaurant, _ = merchants.create(name="好味餐厅", lat=23.13, lng=113.33, category="catering", now=NOW)
    cinema, _ = merchants.create(name="星光影城", lat=23.14, lng=113.32, category="cinema", now=NOW)
    return rider, sweeper, restaurant, cinema


def campaign(**fields) -> Campaign:
    data = {"name": "清凉券", "amount_fen": 199, "stock": 10, "starts_at": NOW - timedelta(days=1),
            "ends_at": NOW + timedelta(days=30), **fields}
    return benefits.create_campaign(benefits.CampaignData(**data), NOW)


def test_a_daily_voucher_is_claimed_once_a_day_and_lasts_that_day(world):
    rider, *_ = world
    cooling = campaign(tag="delivery", limit_period=LimitPeriod.DAY, voucher_days=1)
    voucher = benefits.claim(rider, cooling.id, NOW)
    assert voucher.valid_until.isoformat() == "2026-11-20T16:00:00+00:00"  # midnight in Beijing
    with pytest.raises(Conflict):
        benefits.claim(rider, cooling.id, NOW + timedelta(hours=2))
    tomorrow = benefits.claim(rider, cooling.id, NOW + timedelta(days=1))
    assert (tomorrow.period, tomorrow.seq) == ("2026-11-21", 1)
    assert benefits.state(voucher, NOW + timedelta(days=1)) == "expired"


def test_claims_respect_eligibility_window_limit_and_stock(world):
    rider, sweeper, *_ = world
    riders_only = campaign(tag="delivery", stock=2, per_member=5)
    with pytest.raises(PermissionDenied):
        benefits.claim(sweeper, riders_only.id, NOW)
    benefits.claim(rider, riders_only.id, NOW)
    benefits.claim(rider, riders_only.id, NOW)
    with pytest.raises(Conflict):
        benefits.claim(rider, riders_only.id, NOW)
    later = campaign(name="下月券", starts_at=NOW + timedelta(days=3))
    with pytest.raises(PermissionDenied):
        benefits.claim(rider, later.id, NOW)
    with pytest.raises(NotFound):
        benefits.claim(rider, 999_999, NOW)
    assert db.session.get(Campaign, riders_only.id).issued == 2
    assert [o.campaign.name for o in benefits.offerings(sweeper, NOW)] == []


def test_a_repeated_claim_form_returns_the_first_voucher(world):
    rider, sweeper, *_ = world
    open_to_all = campaign(per_member=3)
    first = benefits.claim(rider, open_to_all.id, NOW, key="form-1")
    assert benefits.claim(rider, open_to_all.id, NOW, key="form-1").id == first.id
    with pytest.raises(InvalidInput):  # another member cannot take over a form key
        benefits.claim(sweeper, open_to_all.id, NOW, key="form-1")
    assert db.session.scalar(select(func.count()).select_from(Voucher)) == 1


def test_the_budget_bounds_the_stock_and_issue_never_oversells(world):
    rider, *_ = world
    tight = campaign(stock=100, budget_fen=199 * 3)
    assert tight.stock == 3
    codes = benefits.issue("13800000001", "清凉券", 3, NOW)
    assert len({v.code for v in codes}) == 3
    with pytest.raises(Conflict):
        benefits.issue("13800000001", "清凉券", 1, NOW)
    with pytest.raises(InvalidInput):
        benefits.issue("13800000009", "清凉券", 1, NOW)
    with pytest.raises(NotFound):
        benefits.issue("13800000001", "没有这个", 1, NOW)
    for bad in ({"amount_fen": 0}, {"stock": 0}, {"ends_at": NOW - timedelta(days=2)}, {"tag": "pilot"},
                {"budget_fen": 100}, {"name": ""}, {"name": "清凉券"}, {"per_member": 0}):
        with pytest.raises(InvalidInput):
            campaign(**{"name": "另一个", **bad})


def test_a_voucher_is_redeemed_once_and_an_undo_within_five_minutes_gives_it_back(world):
    rider, _, restaurant, cinema = world
    voucher = benefits.claim(rider, campaign(amount_fen=1000).id, NOW)
    sale = benefits.Sale(bill_fen=2500, voucher_code=benefits.show_code(voucher.code).lower())
    done = benefits.redeem(restaurant, sale, NOW).redemption
    assert (done.voucher_saving_fen, done.paid_fen, done.membership_id) == (1000, 1500, rider.id)
    with pytest.raises(AlreadyRedeemed):
        benefits.redeem(restaurant, sale, NOW + timedelta(seconds=1))
    with pytest.raises(NotFound):  # another merchant cannot see or undo it
        benefits.undo(cinema, done.id, NOW)
    benefits.undo(restaurant, done.id, NOW + timedelta(minutes=5))
    with pytest.raises(Conflict):
        benefits.undo(restaurant, done.id, NOW + timedelta(minutes=5))
    assert db.session.get(Voucher, voucher.id).status is VoucherStatus.AVAILABLE
    again = benefits.redeem(restaurant, sale, NOW + timedelta(minutes=6)).redemption
    with pytest.raises(Conflict):
        benefits.undo(restaurant, again.id, NOW + timedelta(minutes=11, seconds=1))
    assert benefits.savings(rider) == 1000
    actions = db.session.scalars(select(BenefitEvent.action).where(BenefitEvent.redemption_id.is_not(None))
                                 .order_by(BenefitEvent.id)).all()
    assert actions == ["redeemed", "undone", "redeemed"]


def test_vouchers_are_refused_where_and_when_they_do_not_apply(world):
    rider, sweeper, restaurant, cinema = world
    movie = benefits.claim(rider, campaign(name="一元观影", category=MerchantCategory.CINEMA, amount_fen=3000,
                                           min_spend_fen=3100).id, NOW)
    with pytest.raises(NotRedeemable):  # a cinema voucher at a restaurant
        benefits.redeem(restaurant, benefits.Sale(bill_fen=5000, voucher_code=movie.code), NOW)
    with pytest.raises(NotRedeemable):  # below the minimum spend
        benefits.redeem(cinema, benefits.Sale(bill_fen=3000, voucher_code=movie.code), NOW)
    with pytest.raises(NotRedeemable):  # expired
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code), NOW + timedelta(days=31))
    with pytest.raises(NotRedeemable):  # shown with another member's card
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code, membership_id=sweeper.id), NOW)
    with pytest.raises(NotFound):
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code="ZZZZZZZZZZZZ"), NOW)
    for bill in (0, -100, merchants.MAX_BILL_FEN + 1):
        with pytest.raises(InvalidInput):
            benefits.redeem(cinema, benefits.Sale(bill_fen=bill, voucher_code=movie.code), NOW)
    assert db.session.get(Voucher, movie.id).status is VoucherStatus.AVAILABLE
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 0
    done = benefits.redeem(cinema, benefits.Sale(bill_fen=3500, voucher_code=movie.code), NOW).redemption
    assert (done.saving_fen, done.paid_fen) == (3000, 500)


def test_a_stopped_campaign_voids_its_vouchers(world, make_user):
    rider, _, restaurant, _ = world
    promo = campaign()
    voucher = benefits.claim(rider, promo.id, NOW)
    benefits.stop_campaign(promo.id, None, NOW)
    assert benefits.state(voucher, NOW) == "expired"
    with pytest.raises(NotRedeemable):
        benefits.redeem(restaurant, benefits.Sale(bill_fen=1000, voucher_code=voucher.code), NOW)


def test_an_idempotency_key_returns_the_first_redemption_and_refuses_another_body(world):
    rider, _, restaurant, cinema = world
    voucher = benefits.claim(rider, campaign().id, NOW)
    sale = benefits.Sale(bill_fen=1000, voucher_code=voucher.code)
    first = benefits.redeem(restaurant, sale, NOW, key="till-7-0001")
    retry = benefits.redeem(restaurant, sale, NOW + timedelta(seconds=3), key="till-7-0001")
    assert first.created and not retry.created and retry.redemption.id == first.redemption.id
    with pytest.raises(InvalidInput):
        benefits.redeem(restaurant, benefits.Sale(bill_fen=999, voucher_code=voucher.code), NOW, key="till-7-0001")
    with pytest.raises(AlreadyRedeemed):  # the key is per merchant: another till's same key is its own
        benefits.redeem(cinema, sale, NOW, key="till-7-0001")
    with pytest.raises(InvalidInput):
        benefits.redeem(restaurant, sale, NOW, key="k" * 65)


def test_offers_take_their_discount_within_their_limits(world):
    rider, sweeper, restaurant, cinema = world
    tenth = merchants.add_offer(restaurant, merchants.OfferData(
        title="会员九折", kind=OfferKind.PERCENT, percent_off=10, max_saving_fen=2000, per_day=1, per_month=2), NOW)
    assert [o.id for o in benefits.checkout(restaurant, rider, NOW).offers] == [tenth.id]
    sale = benefits.Sale(bill_fen=30_000, offer_id=tenth.id, membership_id=rider.id)
    assert benefits.redeem(restaurant, sale, NOW).redemption.offer_saving_fen == 2000  # capped
    assert benefits.checkout(restaurant, rider, NOW).offers == []
    with pytest.raises(NotRedeemable):  # once a day
        benefits.redeem(restaurant, sale, NOW + timedelta(hours=1))
    benefits.redeem(restaurant, sale, NOW + timedelta(days=1))
    with pytest.raises(NotRedeemable):  # twice a month
        benefits.redeem(restaurant, sale, NOW + timedelta(days=2))
    with pytest.raises(NotRedeemable):  # another merchant's offer
        benefits.redeem(cinema, sale, NOW)
    with pytest.raises(InvalidInput):  # an offer needs the member's card
        benefits.redeem(restaurant, benefits.Sale(bill_fen=1000, offer_id=tenth.id), NOW)
    merchants.end_offer(restaurant, tenth.id)
    assert benefits.checkout(restaurant, sweeper, NOW).offers == []


def test_an_offer_and_a_voucher_on_one_bill_never_save_more_than_the_bill(world):
    rider, _, restaurant, _ = world
    off = merchants.add_offer(restaurant, merchants.OfferData(title="立减8元", kind=OfferKind.FIXED, amount_fen=800,
                                                              min_spend_fen=1000), NOW)
    voucher = benefits.claim(rider, campaign(amount_fen=500).id, NOW)
    done = benefits.redeem(restaurant, benefits.Sale(bill_fen=1000, voucher_code=voucher.code, offer_id=off.id,
                                                     membership_id=rider.id), NOW).redemption
    assert (done.offer_saving_fen, done.voucher_saving_fen, done.paid_fen) == (800, 200, 0)


def test_the_wallet_and_the_totals_agree_with_what_happened(world):
    rider, _, restaurant, cinema = world
    promo = campaign(amount_fen=500, stock=4, per_member=4)
    used, spare, undone = (benefits.claim(rider, promo.id, NOW) for _ in range(3))
    benefits.redeem(restaurant, benefits.Sale(bill_fen=800, voucher_code=used.code), NOW)
    later = benefits.redeem(cinema, benefits.Sale(bill_fen=300, voucher_code=undone.code), NOW).redemption
    benefits.undo(cinema, later.id, NOW)
    groups = benefits.wallet(rider, NOW)
    assert [v.id for v in groups["available"]] == [spare.id, undone.id] and [v.id for v in groups["used"]] == [used.id]
    assert benefits.wallet(rider, NOW + timedelta(days=31))["expired"] != []
    [total] = benefits.campaign_totals()
    assert (total.issued, total.redeemed, total.spent_fen, total.budget_left_fen) == (3, 1, 500, 1500)
    by_name = {t.merchant.name: t for t in benefits.merchant_totals()}
    assert (by_name["好味餐厅"].redemptions, by_name["好味餐厅"].voucher_savings_fen) == (1, 500)
    assert by_name["星光影城"].redemptions == 0
    csv_text = benefits.totals_csv()
    assert csv_text.startswith("\ufeffcampaign,") and "清凉券,5.00,4,3,1,20.00,5.00,15.00" in csv_text


# ------------------------------------------------------------------------- refusals and the best choice

def test_each_refusal_says_why_with_its_data(app, world):
    with app.test_request_context("/?lang=en"):  # the messages read in English
        _refusals(*world)


def _refusals(rider, sweeper, restaurant, cinema):
    movie = benefits.claim(rider, campaign(name="一元观影", category=MerchantCategory.CINEMA, amount_fen=3000).id, NOW)
    own = benefits.claim(rider, campaign(name="本店券", merchant_id=cinema.id).id, NOW)
    with pytest.raises(NotRedeemable, match="it is for 星光影城 only"):
        benefits.redeem(restaurant, benefits.Sale(bill_fen=5000, voucher_code=own.code), NOW)
    with pytest.raises(NotRedeemable, match="cannot be used at this merchant: it is for"):
        benefits.redeem(restaurant, benefits.Sale(bill_fen=5000, voucher_code=movie.code), NOW)
    with pytest.raises(NotRedeemable, match="belongs to another member"):
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code, membership_id=sweeper.id), NOW)
    with pytest.raises(NotRedeemable, match="expired on 2026-12-20"):
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code), NOW + timedelta(days=31))
    used_at = NOW + timedelta(minutes=2)
    benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code), used_at)
    with pytest.raises(AlreadyRedeemed) as refused:
        benefits.redeem(cinema, benefits.Sale(bill_fen=5000, voucher_code=movie.code), NOW + timedelta(hours=1))
    beijing = used_at.astimezone(SHANGHAI)
    assert refused.value.used_at == used_at
    assert f"used on {beijing:%Y-%m-%d} at {beijing:%H:%M}" in str(refused.value.message)
    lapsed = db.session.get(type(rider), rider.id)
    lapsed.valid_until = NOW.date() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(NotRedeemable, match=f"it ended on {lapsed.valid_until.isoformat()}"):
        tenth = _offer(restaurant, "九折", kind=OfferKind.PERCENT, percent_off=10)
        benefits.redeem(restaurant, benefits.Sale(bill_fen=5000, membership_id=rider.id, offer_id=tenth.id), NOW)


def _offer(restaurant, title, **fields):
    return merchants.add_offer(restaurant, merchants.OfferData(title=title, **fields), NOW)


def test_the_best_choice_saves_the_most_on_this_bill_as_redemption_counts_it(world):
    rider, _, restaurant, _ = world
    tenth = _offer(restaurant, "九折封顶10元", kind=OfferKind.PERCENT, percent_off=10, max_saving_fen=1000)
    eight = _offer(restaurant, "满50减8", kind=OfferKind.FIXED, amount_fen=800, min_spend_fen=5000)
    small = benefits.claim(rider, campaign(name="五元券", amount_fen=500).id, NOW)
    big = benefits.claim(rider, campaign(name="二十元券", amount_fen=2000, min_spend_fen=10_000).id, NOW)
    offers, vouchers = [tenth, eight], [small, big]

    cheap = benefits.best_choice(3000, offers, vouchers)  # 10 % = 3.00; the ¥8 offer and ¥20 voucher need more
    assert (cheap.offer, cheap.voucher, cheap.saving_fen, cheap.to_pay_fen) == (tenth, small, 800, 2200)
    middle = benefits.best_choice(6000, offers, vouchers)  # ¥8 beats 10 % (6.00)
    assert (middle.offer, middle.voucher, middle.saving_fen) == (eight, small, 1300)
    large = benefits.best_choice(20_000, offers, vouchers)  # 10 % capped at ¥10, and the ¥20 voucher
    assert (large.offer, large.voucher, large.saving_fen, large.to_pay_fen) == (tenth, big, 3000, 17_000)
    tiny = benefits.best_choice(300, [eight], [small])  # the voucher can save only the bill
    assert (tiny.offer, tiny.voucher, tiny.saving_fen, tiny.to_pay_fen) == (None, small, 300, 0)
    nothing = benefits.best_choice(1000, [eight], [big])  # neither applies: nothing is used up
    assert (nothing.offer, nothing.voucher, nothing.saving_fen) == (None, None, 0)

    done = benefits.redeem(restaurant, benefits.Sale(bill_fen=20_000, offer_id=large.offer.id,
                                                     voucher_code=large.voucher.code, membership_id=rider.id),
                           NOW).redemption
    assert (done.offer_saving_fen, done.voucher_saving_fen, done.paid_fen) == (
        large.offer_saving_fen, large.voucher_saving_fen, large.to_pay_fen)


def test_on_a_tie_the_voucher_that_expires_first_and_fewer_things_are_used(world):
    rider, _, restaurant, _ = world
    later = benefits.claim(rider, campaign(name="晚到期", amount_fen=500).id, NOW)
    sooner = benefits.claim(rider, campaign(name="早到期", amount_fen=500, ends_at=NOW + timedelta(days=2)).id, NOW)
    vouchers = benefits.checkout(restaurant, rider, NOW).vouchers
    assert vouchers == [sooner, later]
    assert benefits.best_choice(2000, [], vouchers).voucher == sooner
    whole = _offer(restaurant, "立减5元", kind=OfferKind.FIXED, amount_fen=500)
    assert benefits.best_choice(500, [whole], vouchers).voucher is None  # the offer alone pays the bill
