"""Merchants: till keys, staff, the nearby search shared with the stations, and offers' rules."""

from __future__ import annotations

import random
from datetime import date

import pytest
from geopy.distance import geodesic

from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.models import MerchantCategory, OfferKind, Role, User
from portal.services import merchants
from tests.conftest import NOW


def test_a_till_key_is_shown_once_stored_as_a_digest_and_can_be_replaced(ctx):
    merchant, key = merchants.create(name="好味餐厅", lat=23.13, lng=113.33, category="catering", now=NOW)
    assert key.startswith(merchants.KEY_PREFIX) and key not in merchant.api_key_hash
    assert merchants.by_key(key).id == merchant.id
    assert merchants.by_key(key + "x") is None and merchants.by_key(None) is None
    assert merchants.by_key("k" * 500) is None
    fresh = merchants.new_key(merchant.id)
    assert merchants.by_key(key) is None and merchants.by_key(fresh).id == merchant.id
    for bad in ({"category": "casino"}, {"lat": 91}, {"lng": float("nan")}, {"name": " "}):
        with pytest.raises(InvalidInput):
            merchants.create(**{"name": "x", "lat": 23, "lng": 113, "category": "fuel", "now": NOW, **bad})


def test_only_merchant_accounts_become_staff_and_see_their_own_merchant(ctx, make_user):
    cashier, member, idle = make_user(Role.MERCHANT), make_user(Role.MEMBER), make_user(Role.MERCHANT)
    merchant, _ = merchants.create(name="加油站", lat=23.1, lng=113.3, category="fuel", now=NOW)
    merchants.add_staff(merchant.id, cashier.phone, NOW)
    assert merchants.of_staff(db.session.get(User, cashier.id)).id == merchant.id
    with pytest.raises(InvalidInput):
        merchants.add_staff(merchant.id, member.phone, NOW)
    created = merchants.add_staff(merchant.id, "13900000077", NOW, password="Cashier-pass-1", name="收银员")
    assert created.role is Role.MERCHANT
    with pytest.raises(NotFound):
        merchants.of_staff(db.session.get(User, idle.id))


def test_nearby_merchants_match_a_brute_force_geodesic_search(ctx):
    rng = random.Random(5)
    for n in range(150):
        merchants.create(name=f"商户{n}", lat=23.13 + rng.uniform(-0.05, 0.05), lng=113.33 + rng.uniform(-0.05, 0.05),
                         category=rng.choice(list(MerchantCategory)).value, now=NOW)
    everyone = merchants.listing(limit=1000)
    for _ in range(10):
        lat, lng = 23.13 + rng.uniform(-0.04, 0.04), 113.33 + rng.uniform(-0.04, 0.04)
        category = rng.choice([None, *MerchantCategory])
        expected = sorted((geodesic((lat, lng), (m.lat, m.lng)).meters, m.id) for m in everyone
                          if category in (None, m.category))
        expected = [(round(d), i) for d, i in expected if d <= 3000][:15]
        found = merchants.nearby(lat, lng, radius_m=3000, limit=15, category=category)
        assert [(n.merchant.id) for n in found] == [i for _, i in expected]
        assert all(abs(n.distance_m - d) <= 1 for n, (d, _) in zip(found, expected, strict=True))


def test_offers_are_checked_and_save_what_they_promise(ctx):
    merchant, _ = merchants.create(name="好味餐厅", lat=23.13, lng=113.33, category="catering", now=NOW)
    percent = merchants.add_offer(merchant, merchants.OfferData(title="九折", kind=OfferKind.PERCENT, percent_off=10,
                                                                max_saving_fen=500, min_spend_fen=2000), NOW)
    fixed = merchants.add_offer(merchant, merchants.OfferData(title="立减5元", kind=OfferKind.FIXED, amount_fen=500,
                                                              ends_on=date(2026, 11, 19)), NOW)
    assert [merchants.offer_saving(percent, bill) for bill in (1999, 2000, 4999, 10_000)] == [0, 200, 499, 500]
    assert merchants.offer_saving(fixed, 300) == 300
    assert [o.id for o in merchants.live_offers(merchant.id, NOW)] == [percent.id]  # the other ended yesterday
    for bad in ({"percent_off": 0}, {"percent_off": 95}, {"title": ""}, {"per_day": -1}, {"per_month": 101},
                {"min_spend_fen": -1}, {"kind": OfferKind.FIXED, "amount_fen": 0},
                {"kind": OfferKind.FIXED, "amount_fen": 900, "min_spend_fen": 500},
                {"starts_on": date(2026, 12, 2), "ends_on": date(2026, 12, 1)}):
        with pytest.raises(InvalidInput):
            merchants.add_offer(merchant, merchants.OfferData(**{"title": "x", "kind": OfferKind.PERCENT,
                                                                 "percent_off": 10, **bad}), NOW)
    with pytest.raises(NotFound):
        merchants.end_offer(merchants.create(name="别家", lat=23, lng=113, category="fuel", now=NOW)[0], percent.id)
