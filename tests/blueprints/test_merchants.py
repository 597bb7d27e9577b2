"""Merchants through HTTP: the public directory and merchant pages, and the counter where a merchant's staff read
a member's card, redeem once, undo within five minutes and keep their offers.

The counter's pages read the application's clock, which the `clock` fixture holds at NOW, so the card codes,
vouchers and offers here are made at NOW. Pages are asked for in English (the language cookie), so the assertions
do not depend on the translations.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.exceptions import NotRedeemable
from portal.extensions import db
from portal.models import BenefitEvent, Membership, Offer, OfferKind, Redemption, Role, Voucher, VoucherStatus
from portal.services import benefits, members, merchants
from tests.conftest import NOW, PASSWORD, csrf_token, login

ROSTER = ("number,name,union,occupation,member_since,valid_until\n"
          "GZ2024000001,张三丰,广州市总工会,delivery,2020-03-01,\n")
MEMBER_PHONE = "13900000001"


def _merchant(app, name: str = "好味餐厅", lat: float = 23.1353, lng: float = 113.3340, category: str = "catering",
              **fields) -> int:
    with app.app_context():
        merchant, _ = merchants.create(name=name, lat=lat, lng=lng, category=category, now=NOW, **fields)
        return merchant.id


def _offer(app, merchant_id: int, **fields) -> int:
    data = {"title": "会员九折", "kind": OfferKind.PERCENT, "percent_off": 10, "max_saving_fen": 3000, **fields}
    with app.app_context():
        return merchants.add_offer(merchants.get(merchant_id), merchants.OfferData(**data), NOW).id


def _english(client):
    client.get("/?lang=en")  # the language cookie: every later page of this client is in English
    return client


def _staff_client(app, make_user, merchant_id: int | None):
    user = make_user(Role.MERCHANT)
    if merchant_id is not None:
        with app.app_context():
            merchants.add_staff(merchant_id, user.phone, NOW)
    client = _english(app.test_client())
    assert login(client, user.phone).status_code == 303
    return client


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _html(response) -> str:
    return unescape(response.get_data(as_text=True))


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


@pytest.fixture
def counter(app, make_user):
    """A restaurant with a 10 % offer and a cashier signed in; a member with a ¥5 voucher usable anywhere."""
    now = NOW
    merchant_id = _merchant(app)
    offer_id = _offer(app, merchant_id)
    client = _staff_client(app, make_user, merchant_id)
    with app.app_context():
        members.import_roster(members.read_roster(ROSTER.encode()), None, now)
        membership = members.sign_up(phone=MEMBER_PHONE, password=PASSWORD, number="GZ2024000001", name="张三丰",
                                     now=now)
        campaign = benefits.create_campaign(benefits.CampaignData(
            name="清凉券", amount_fen=500, stock=10, per_member=2, starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30)), now)
        voucher = benefits.claim(membership, campaign.id, now)
        ids = SimpleNamespace(membership=membership.id, voucher=voucher.id, code=voucher.code, campaign=campaign.id)
    return SimpleNamespace(app=app, client=client, merchant=merchant_id, offer=offer_id, **vars(ids))


def _card_code(app, membership_id: int, at: datetime | None = None) -> str:
    with app.app_context():
        return members.card_code(db.session.get(Membership, membership_id), at or NOW)


def _checkout(c, code: str | None = None):
    token = csrf_token(c.client, "/merchant/")
    return c.client.post("/merchant/checkout", data={"csrf_token": token,
                                                     "code": code or _card_code(c.app, c.membership)})


def _confirm(c, page: str, **fields):
    data = {"csrf_token": csrf_token(c.client, "/merchant/"), "ref": _hidden(page, "ref"),
            "token": _hidden(page, "token"), "bill": "100", "offer": str(c.offer), "voucher": str(c.voucher), **fields}
    return c.client.post("/merchant/redeem", data=data), data


# --------------------------------------------------------------------------------------------- directory

def test_the_directory_lists_every_merchant_by_name_without_a_location(app, client):
    _merchant(app, name="好味餐厅")
    _merchant(app, name="星光影城", category="cinema")
    html = _html(_english(client).get("/merchants/"))
    assert "好味餐厅" in html and "星光影城" in html and "2 partner merchants" in html
    assert 'data-locate hidden' in html and "/static/js/stations.js" in html  # the finder's "use my location"
    cinema = _html(client.get("/merchants/?category=cinema"))
    assert "星光影城" in cinema and "好味餐厅" not in cinema and "1 partner merchant" in cinema


def test_near_me_ranks_merchants_by_distance_within_the_radius_and_category(app, client):
    near = _merchant(app, name="近处餐厅", lat=23.1360, lng=113.3340)
    _merchant(app, name="远处餐厅", lat=23.1600, lng=113.3340)
    _merchant(app, name="深圳餐厅", lat=22.54, lng=114.06)
    _merchant(app, name="近处油站", lat=23.1354, lng=113.3341, category="fuel")
    html = _html(_english(client).get("/merchants/?lat=23.1353&lng=113.3340&category=catering"))
    assert "2 merchants near your location" in html and "深圳餐厅" not in html and "近处油站" not in html
    assert html.index("近处餐厅") < html.index("远处餐厅")
    assert re.search(r"\b7\d m\b", html) and "2.7 km" in html and f'href="/merchants/{near}"' in html
    small = _html(client.get("/merchants/?lat=23.1353&lng=113.3340&radius=1000"))
    assert "近处餐厅" in small and "近处油站" in small and "远处餐厅" not in small


def test_a_chosen_place_stands_in_for_the_location(app, client):
    _merchant(app, name="石牌餐厅")
    _merchant(app, name="深圳餐厅", lat=22.54, lng=114.06)
    html = _html(client.get("/merchants/?city=4401&district=440106"))
    assert "石牌餐厅" in html and "深圳餐厅" not in html


def test_the_directory_answers_htmx_with_its_results_only(app, client):
    _merchant(app, name="好味餐厅")
    fragment = client.get("/merchants/?lat=23.1353&lng=113.3340", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="merchants-results"') and "好味餐厅" in text and "<html" not in text


def test_junk_parameters_are_explained_with_a_400_never_a_500(app, client):
    _merchant(app, name="好味餐厅")
    _english(client)
    for query in ("lat=NaN&lng=113", "lat=91&lng=500", "lat=abc&lng=113.3", "lat=23.1", "lng=113.3", "lat=1e999&lng=2",
                  "category=casino", "radius=9999999", "category=%00", "lat=" + "9" * 500 + "&lng=1"):
        response = client.get(f"/merchants/?{query}")
        html = _html(response)
        assert response.status_code == 400, query
        assert 'role="alert"' in html and ("location could not be read" in html or "Not a valid choice" in html)
        assert "好味餐厅" in html, query  # the list is still there, without the part that could not be read
    assert client.get("/merchants/?city=%00&district=x").status_code == 200  # an unknown place is just not chosen


# ---------------------------------------------------------------------------------------- merchant page

def test_the_merchant_page_shows_todays_offers_and_navigates_in_each_apps_datum(app, client):
    merchant_id = _merchant(app, name="好味餐厅", address="天河路1号", phone="020-1234 5678", description="粤菜")
    _offer(app, merchant_id, min_spend_fen=5000, per_day=1, per_month=4, terms="不与其他优惠同享",
           ends_on=(NOW + timedelta(days=60)).date())
    _offer(app, merchant_id, title="满百减十", kind=OfferKind.FIXED, percent_off=0, amount_fen=1000,
           max_saving_fen=0, min_spend_fen=10000)
    _offer(app, merchant_id, title="明年的优惠", starts_on=(NOW + timedelta(days=400)).date())
    ended = _offer(app, merchant_id, title="已结束的优惠")
    with app.app_context():
        merchants.end_offer(merchants.get(merchant_id), ended)
    html = _html(_english(client).get(f"/merchants/{merchant_id}"))
    assert "好味餐厅" in html and "天河路1号" in html and 'href="tel:020-12345678"' in html and "粤菜" in html
    assert "10% off, at most ¥30.00" in html and "On bills of ¥50.00 or more" in html
    assert "1 time per member a day" in html and "4 times per member a month" in html and "不与其他优惠同享" in html
    assert "¥10.00 off" in html and "满百减十" in html
    assert "明年的优惠" not in html and "已结束的优惠" not in html
    assert "uri.amap.com/navigation" in html and "coord_type=bd09ll" in html and "apis.map.qq.com" in html
    assert "member card at the counter" in html
    assert client.get("/merchants/999999").status_code == 404


# ------------------------------------------------------------------------------------------- the counter

def test_the_counter_reads_a_card_and_redeems_an_offer_and_a_voucher_once(counter):
    c = counter
    page = _html(c.client.get("/merchant/"))
    assert 'action="/merchant/checkout"' in page and "data-scan hidden" in page and "/static/js/scan.js" in page
    assert re.search(r'<script src="/static/js/scan\.js[^"]*" defer>', page) and "好味餐厅" in page
    checkout = _checkout(c)
    html = _html(checkout)
    assert checkout.status_code == 200 and "Valid membership" in html
    assert "张*丰" in html and "********0001" in html and "广州市总工会" in html
    assert "张三丰" not in html and MEMBER_PHONE not in html and "GZ2024000001" not in html
    assert "会员九折" in html and "10% off, at most ¥30.00" in html and "清凉券 · ¥5.00" in html
    assert c.code not in html  # the voucher is chosen by id: its code never reaches the cashier's page
    response, data = _confirm(c, html)
    assert response.status_code == 303
    receipt_url = response.headers["Location"]
    assert re.fullmatch(r"/merchant/redemptions/\d+", receipt_url)
    receipt = _html(c.client.get(receipt_url))
    assert "¥15.00" in receipt and "¥85.00" in receipt and "¥100.00" in receipt  # 10 % off, then the ¥5 voucher
    assert "−¥10.00" in receipt and "−¥5.00" in receipt and f"···· {c.code[-4:]}" in receipt and c.code not in receipt
    assert "张*丰" in receipt and "张三丰" not in receipt and "清凉券" in receipt
    assert f'action="{receipt_url}/undo"' in receipt
    # A double tap sends the same form again: the same receipt, still one redemption
    again = c.client.post("/merchant/redeem", data=data)
    assert again.status_code == 303 and again.headers["Location"] == receipt_url
    assert _count(c.app, Redemption) == 1
    with c.app.app_context():
        assert db.session.get(Voucher, c.voucher).status is VoucherStatus.USED
    assert "Saved ¥15.00 on ¥100.00" in _html(c.client.get("/merchant/"))
    # back to the same page, and another bill sent with its form: refused, not a second redemption
    reused = c.client.post("/merchant/redeem", data={**data, "bill": "50", "voucher": ""})
    assert reused.status_code == 400 and "already used for another redemption" in _html(reused)
    assert _count(c.app, Redemption) == 1


def test_a_used_voucher_is_refused_with_409_and_nothing_changes(counter):
    c = counter
    first, _ = _confirm(c, _html(_checkout(c)))
    assert first.status_code == 303
    # the same voucher again, from a stale checkout page with a fresh form
    page = _html(_checkout(c))
    refused, _ = _confirm(c, page, voucher=str(c.voucher), token=_hidden(_html(c.client.get("/merchant/")), "token"))
    html = _html(refused)
    assert refused.status_code == 409 and "already used" in html and 'name="ref"' in html
    # and typed by its code at the counter
    typed = c.client.post("/merchant/redeem", data={
        "csrf_token": csrf_token(c.client, "/merchant/"), "voucher_code": c.code.lower(), "bill": "20",
        "token": _hidden(_html(c.client.get("/merchant/")), "token")})
    assert typed.status_code == 409 and "already used" in _html(typed)
    assert _count(c.app, Redemption) == 1


def test_a_voucher_is_redeemed_by_its_code_alone(counter):
    c = counter
    page = _html(c.client.get("/merchant/"))
    response = c.client.post("/merchant/redeem", data={
        "csrf_token": csrf_token(c.client, "/merchant/"), "token": _hidden(page, "token"),
        "voucher_code": " " + c.code[:4] + "-" + c.code[4:].lower(), "bill": "3.50"})
    assert response.status_code == 303
    receipt = _html(c.client.get(response.headers["Location"]))
    assert "¥3.50" in receipt and "¥0.00" in receipt and "张*丰" in receipt  # the voucher pays for the whole bill
    unknown = c.client.post("/merchant/redeem", data={
        "csrf_token": csrf_token(c.client, "/merchant/"), "token": _hidden(page, "token") + "x",
        "voucher_code": "ABCDEFGHJKLM", "bill": "10"})
    assert unknown.status_code == 400  # a form token that is not ours: nothing is even looked up
    fresh = _hidden(_html(c.client.get("/merchant/")), "token")
    missing = c.client.post("/merchant/redeem", data={"csrf_token": csrf_token(c.client, "/merchant/"),
                                                      "token": fresh, "voucher_code": "ABCDEFGHJKLM", "bill": "10"})
    assert missing.status_code == 404 and "No voucher has this code" in _html(missing)
    assert _count(c.app, Redemption) == 1


def test_bad_bills_and_choices_are_refused_and_nothing_changes(counter):
    c = counter
    page = _html(_checkout(c))
    for bill in ("", "0", "-5", "abc", "1e5", "100000.01", "12.345"):
        response, _ = _confirm(c, page, bill=bill)
        assert response.status_code == 400, bill
        assert 'id="bill-error"' in _html(response) and 'name="ref"' in _html(response)
    for offer in ("x", "1; DROP TABLE offer"):
        assert _confirm(c, page, offer=offer)[0].status_code == 400
    assert _confirm(c, page, offer="", voucher="")[0].status_code == 400  # neither offer nor voucher
    assert _confirm(c, page, voucher="999999")[0].status_code == 400  # not one of this member's vouchers
    assert _confirm(c, page, offer="999999", voucher="")[0].status_code == 422  # not an offer of this merchant
    assert _count(c.app, Redemption) == 0
    missing_step = c.client.post("/merchant/redeem", data={"csrf_token": csrf_token(c.client, "/merchant/"),
                                                           "bill": "10"})
    assert missing_step.status_code == 400 and _count(c.app, Redemption) == 0


def test_an_expired_or_wrong_card_code_is_refused_with_422(counter):
    c = counter
    stale = _checkout(c, _card_code(c.app, c.membership, NOW - timedelta(minutes=5)))
    html = _html(stale)
    assert stale.status_code == 422 and "not valid or has expired" in html and 'action="/merchant/checkout"' in html
    assert _checkout(c, "garbage.token.value").status_code == 422
    assert _checkout(c, "99999999123456").status_code == 422
    empty = c.client.post("/merchant/checkout", data={"csrf_token": csrf_token(c.client, "/merchant/"), "code": ""})
    assert empty.status_code == 400


def test_a_scanned_qr_token_reads_the_card_too(counter):
    c = counter
    with c.app.app_context():
        token = members.card_token(db.session.get(Membership, c.membership), NOW)
    assert "Valid membership" in _html(_checkout(c, token))


def test_a_tampered_or_foreign_checkout_ref_is_refused_and_nothing_changes(counter):
    c = counter
    page = _html(_checkout(c))
    ref = _hidden(page, "ref")
    tampered = ref[:-2] + ("AA" if not ref.endswith("AA") else "BB")
    response, _ = _confirm(c, page, ref=tampered)
    assert response.status_code == 422 and "Read the member's card again" in _html(response)
    other = _merchant(c.app, name="别家餐厅")
    with c.app.app_context():
        membership = db.session.get(Membership, c.membership)
        foreign = merchants.checkout_ref(merchants.get(other), membership, NOW)
        old = merchants.checkout_ref(merchants.get(c.merchant), membership, NOW - timedelta(minutes=11))
    assert _confirm(c, page, ref=foreign)[0].status_code == 422
    expired, _ = _confirm(c, page, ref=old)
    assert expired.status_code == 422 and "more than 10 minutes old" in _html(expired)
    assert _count(c.app, Redemption) == 0
    with c.app.app_context():
        assert db.session.get(Voucher, c.voucher).status is VoucherStatus.AVAILABLE


def test_the_checkout_ref_names_the_merchant_and_the_membership(counter):
    c = counter
    with c.app.app_context():
        merchant, membership = merchants.get(c.merchant), db.session.get(Membership, c.membership)
        ref = merchants.checkout_ref(merchant, membership, NOW)
        assert merchants.read_checkout_ref(merchant, ref, NOW + timedelta(minutes=10)).id == c.membership
        for bad in ("", "x" * 5000, ref + "x"):
            with pytest.raises(NotRedeemable):
                merchants.read_checkout_ref(merchant, bad, NOW)
        with pytest.raises(NotRedeemable):
            merchants.read_checkout_ref(merchant, ref, NOW + timedelta(minutes=10, seconds=1))


def test_an_invalid_membership_gets_no_benefits_at_the_counter(counter):
    c = counter
    with c.app.app_context():
        db.session.get(Membership, c.membership).valid_until = (NOW - timedelta(days=2)).date()
        db.session.commit()
    html = _html(_checkout(c))
    assert "Not valid" in html and 'action="/merchant/redeem"' not in html.split("Not valid", 1)[1]


def test_a_receipt_is_undone_within_five_minutes_and_the_voucher_is_available_again(counter):
    c = counter
    receipt_url = _confirm(c, _html(_checkout(c)))[0].headers["Location"]
    token = csrf_token(c.client, receipt_url)
    undone = c.client.post(receipt_url + "/undo", data={"csrf_token": token})
    assert undone.status_code == 303 and undone.headers["Location"] == receipt_url
    html = _html(c.client.get(receipt_url))
    assert "receipt-undone" in html and "Undone at" in html and "/undo" not in html
    with c.app.app_context():
        assert db.session.get(Voucher, c.voucher).status is VoucherStatus.AVAILABLE
        assert db.session.scalar(select(Redemption.undone_at)) is not None
        assert db.session.scalar(select(BenefitEvent.action).where(BenefitEvent.action == "undone")) == "undone"
    again = c.client.post(receipt_url + "/undo", data={"csrf_token": token})
    assert again.status_code == 409 and "already undone" in _html(again)
    # the voucher can be used again
    assert _confirm(c, _html(_checkout(c)))[0].status_code == 303
    assert _count(c.app, Redemption, Redemption.undone_at.is_(None)) == 1


def test_an_old_redemption_cannot_be_undone(counter):
    c = counter
    receipt_url = _confirm(c, _html(_checkout(c)))[0].headers["Location"]
    with c.app.app_context():
        db.session.get(Redemption, int(receipt_url.rsplit("/", 1)[1])).created_at = NOW - timedelta(minutes=6)
        db.session.commit()
    html = _html(c.client.get(receipt_url))
    assert "/undo" not in html
    late = c.client.post(receipt_url + "/undo", data={"csrf_token": csrf_token(c.client, receipt_url)})
    assert late.status_code == 409 and "within 5 minutes" in _html(late)
    with c.app.app_context():
        assert db.session.get(Voucher, c.voucher).status is VoucherStatus.USED


def test_another_merchants_receipts_undo_and_offers_are_404(counter, make_user):
    c = counter
    receipt_url = _confirm(c, _html(_checkout(c)))[0].headers["Location"]
    other = _staff_client(c.app, make_user, _merchant(c.app, name="别家餐厅"))
    assert other.get(receipt_url).status_code == 404
    token = csrf_token(other, "/merchant/")
    assert other.post(receipt_url + "/undo", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/merchant/offers/{c.offer}/end", data={"csrf_token": token}).status_code == 404
    assert "Saved" not in _html(other.get("/merchant/"))
    with c.app.app_context():
        assert db.session.scalar(select(Redemption.undone_at)) is None
        assert db.session.get(Offer, c.offer).active


def test_card_reads_are_rate_limited_per_cashier(counter):
    c = counter
    token = csrf_token(c.client, "/merchant/")
    statuses = [c.client.post("/merchant/checkout", data={"csrf_token": token, "code": "12345678"}).status_code
                for _ in range(31)]
    assert statuses[:30] == [422] * 30 and statuses[30] == 429


# ------------------------------------------------------------------------------------------------ offers

def test_a_merchant_adds_and_ends_offers(app, make_user):
    merchant_id = _merchant(app)
    client = _staff_client(app, make_user, merchant_id)
    token = csrf_token(client, "/merchant/offers")
    added = client.post("/merchant/offers", data={
        "csrf_token": token, "title": "满50减8", "kind": "fixed", "amount": "8", "min_spend": "50", "per_day": "1",
        "per_month": "", "starts_on": "", "ends_on": "", "terms": "堂食可用"})
    assert added.status_code == 303 and added.headers["Location"] == "/merchant/offers"
    client.post("/merchant/offers", data={"csrf_token": token, "title": "九五折", "kind": "percent",
                                          "percent_off": "5", "max_saving": "20.5"})
    with app.app_context():
        fixed, percent = db.session.scalars(select(Offer).order_by(Offer.id)).all()
        assert (fixed.kind, fixed.amount_fen, fixed.min_spend_fen, fixed.per_day, fixed.terms) == (
            OfferKind.FIXED, 800, 5000, 1, "堂食可用")
        assert (percent.percent_off, percent.max_saving_fen, percent.amount_fen) == (5, 2050, 0)
    html = _html(client.get("/merchant/offers"))
    assert "满50减8" in html and "¥8.00 off" in html and "5% off, at most ¥20.50" in html
    assert html.count("/end\"") == 2
    ended = client.post(f"/merchant/offers/{fixed.id}/end", data={"csrf_token": token})
    assert ended.status_code == 303
    with app.app_context():
        assert not db.session.get(Offer, fixed.id).active and db.session.get(Offer, percent.id).active
    assert "满50减8" not in _html(client.get(f"/merchants/{merchant_id}"))
    assert client.post("/merchant/offers/999999/end", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": ""}, "Enter a title"),
    ({"kind": "free"}, "Not a valid choice"),
    ({"percent_off": "95"}, "between 1 and 90"),
    ({"kind": "percent", "percent_off": ""}, "1 to 90 percent"),
    ({"kind": "fixed", "amount": ""}, "at least ¥0.01"),
    ({"kind": "fixed", "amount": "20", "min_spend": "10"}, "at least the amount off"),
    ({"min_spend": "ten"}, "Enter an amount in yuan"),
    ({"per_day": "-1"}, "between 0 and 100"),
    ({"per_month": "abc"}, "Must be a whole number."),
    ({"starts_on": "2026-12-10", "ends_on": "2026-12-01"}, "cannot end before it starts"),
    ({"ends_on": "tomorrow"}, "Enter a date between 1900 and 2100"),
])
def test_invalid_offers_are_explained_with_400_and_not_saved(app, make_user, fields, message):
    client = _staff_client(app, make_user, _merchant(app))
    data = {"csrf_token": csrf_token(client, "/merchant/offers"), "title": "九折", "kind": "percent",
            "percent_off": "10", **fields}
    response = client.post("/merchant/offers", data=data)
    assert response.status_code == 400 and message in _html(response)
    assert _count(app, Offer) == 0


# ------------------------------------------------------------------------------------------------ access

def test_only_a_merchants_staff_reach_the_counter(app, make_user):
    merchant_id = _merchant(app)
    for role in (Role.MEMBER, Role.STAFF, Role.ADMIN, Role.STATION_MANAGER):
        user = make_user(role, region="4401" if role is Role.STAFF else None)
        client = app.test_client()
        assert login(client, user.phone).status_code == 303
        token = csrf_token(client)
        for path in ("/merchant/", "/merchant/offers", "/merchant/redemptions/1"):
            assert client.get(path).status_code == 403, (role, path)
        for path in ("/merchant/checkout", "/merchant/redeem", "/merchant/redemptions/1/undo",
                     f"/merchant/offers/{merchant_id}/end"):
            assert client.post(path, data={"csrf_token": token}).status_code == 403, (role, path)
    anonymous = app.test_client()
    assert anonymous.get("/merchant/").headers["Location"].startswith("/login?next=")


def test_a_merchant_account_that_no_merchant_employs_gets_404(app, make_user):
    client = _staff_client(app, make_user, None)
    response = client.get("/merchant/")
    assert response.status_code == 404 and "does not work for a partner merchant" in _html(response)
    token = csrf_token(client)
    assert client.get("/merchant/offers").status_code == 404
    assert client.post("/merchant/checkout", data={"csrf_token": token, "code": "1"}).status_code == 404
    assert client.post("/merchant/redeem", data={"csrf_token": token}).status_code == 404


# ------------------------------------------------------------------ issue 14: best choice and refusals

def _checkout_with_bill(c, bill: str):
    token = csrf_token(c.client, "/merchant/")
    return c.client.post("/merchant/checkout", data={"csrf_token": token, "bill": bill,
                                                     "code": _card_code(c.app, c.membership)})


def _checked(page: str, name: str) -> str:
    return re.search(rf'<input type="radio" id="[^"]+" name="{name}" value="([^"]*)" checked>', page).group(1)


def test_with_the_bill_the_checkout_chooses_what_saves_most_and_shows_what_to_pay(counter):
    c = counter
    page = _html(_checkout_with_bill(c, "30"))  # 10 % = ¥3.00 and the ¥5 voucher: ¥8.00 off, ¥22.00 to pay
    assert (_checked(page, "offer"), _checked(page, "voucher")) == (str(c.offer), str(c.voucher))
    summary = page[page.index('id="merchants-summary"'):]
    assert re.search(r"Bill</dt><dd>¥30\.00.*Saving</dt><dd[^>]*>−¥8\.00.*To pay</dt><dd>¥22\.00", summary, re.S)
    assert page.index('id="merchants-summary"') < page.index("Confirm and redeem")
    # A different bill and choice, worked out again: nothing is redeemed, the amounts follow the choice.
    again = c.client.post("/merchant/checkout/amount", data={
        "csrf_token": csrf_token(c.client, "/merchant/"), "ref": _hidden(page, "ref"), "token": _hidden(page, "token"),
        "bill": "4", "offer": "", "voucher": str(c.voucher)})
    assert again.status_code == 200 and _count(c.app, Redemption) == 0
    worked = _html(again)
    assert re.search(r"Saving</dt><dd[^>]*>−¥4\.00.*To pay</dt><dd>¥0\.00", worked, re.S)
    assert _checked(worked, "voucher") == str(c.voucher) and _checked(worked, "offer") == ""
    done, _ = _confirm(c, worked, bill="4", offer="")
    assert done.status_code == 303 and _count(c.app, Redemption) == 1


def test_without_the_bill_no_amount_is_guessed(counter):
    page = _html(_checkout(counter))
    assert 'id="merchants-summary"' not in page and _checked(page, "offer") == str(counter.offer)


def test_a_checkout_that_cannot_be_read_begins_again_with_the_card(counter):
    response = counter.client.post("/merchant/checkout/amount", data={
        "csrf_token": csrf_token(counter.client, "/merchant/"), "ref": "forged", "bill": "30"})
    page = _html(response)
    assert response.status_code == 422 and "could not be read" in page and 'action="/merchant/checkout"' in page


def test_a_used_voucher_is_refused_at_the_top_with_the_time_it_was_used(counter):
    c = counter
    with c.app.app_context():
        merchant = merchants.get(c.merchant)
        benefits.redeem(merchant, benefits.Sale(bill_fen=1000, voucher_code=c.code), NOW + timedelta(minutes=1))
    response = c.client.post("/merchant/redeem", data={"csrf_token": csrf_token(c.client, "/merchant/"),
                                                       "voucher_code": c.code, "bill": "20"})
    page = _html(response)
    assert response.status_code == 409
    alert = re.search(r'<div class="notice notice-error" role="alert" tabindex="-1" autofocus>(.*?)</div>', page, re.S)
    assert alert and "already used on 2026-11-20 at 10:01" in alert.group(1)  # 02:01 UTC is 10:01 in Beijing
    assert page.index("autofocus") < page.index("Read the member's card")  # above both forms
