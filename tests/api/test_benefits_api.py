"""The terminal API for merchants' tills: verify a card, redeem a voucher once, read and undo a redemption.
Every refusal is a JSON error with a clear message, and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.exceptions import Conflict, NotRedeemable, PermissionDenied
from portal.extensions import db
from portal.models import Campaign, Membership, OfferKind, Redemption, User, Voucher, VoucherStatus
from portal.services import benefits, members, merchants
from tests.api.conftest import conforms
from tests.factories import NOW

API = "/api/v1"


def call(client, path: str, key: str | None, body=None, method: str = "POST", **headers):
    """The till asks for English messages (the API answers in Chinese unless asked otherwise)."""
    headers.setdefault("Accept-Language", "en")
    if key is not None:
        headers["X-API-Key"] = key
    return conforms(client.open(f"{API}{path}", method=method, json=body, headers=headers))


def redeem(client, key, code, body=None, **headers):
    return call(client, f"/vouchers/{code}/redeem", key, {"bill_fen": 3000} if body is None else body, **headers)


def snapshot(app) -> tuple:
    """Everything a redemption or a claim changes."""
    with app.app_context():
        state = (db.session.scalar(select(func.count()).select_from(Redemption)),
                 tuple(db.session.execute(select(Voucher.code, Voucher.status).order_by(Voucher.id)).all()),
                 tuple(db.session.scalars(select(Campaign.issued).order_by(Campaign.id))))
        db.session.remove()
        return state


@pytest.fixture
def shop(make_merchant, make_member, make_campaign, issue):
    """A restaurant, a member with two of its usable vouchers, and another restaurant."""
    merchant, other = make_merchant("catering"), make_merchant("catering")
    member = make_member()
    campaign = make_campaign(amount_fen=500)
    return merchant, other, member, issue(member, campaign, 2)


# -------------------------------------------------------------------------------------------- the key

@pytest.mark.parametrize("headers", [{}, {"X-API-Key": ""}, {"X-API-Key": "wspm_not-a-key"},
                                     {"Authorization": "Bearer wspm_not-a-key"}, {"Authorization": "Basic abc"},
                                     {"X-API-Key": "x" * 500}])
def test_a_missing_or_unknown_key_is_401_and_changes_nothing(app, client, shop, headers):
    _, _, _, codes = shop
    before = snapshot(app)
    response = conforms(client.post(f"{API}/vouchers/{codes[0]}/redeem", json={"bill_fen": 3000},
                                    headers={**headers, "Accept-Language": "en"}))
    assert response.status_code == 401
    error = response.json["error"]
    assert error["status"] == 401 and "key" in error["message"] and error["request_id"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(app) == before


def test_the_key_may_come_as_a_bearer_token(client, shop):
    merchant, _, _, codes = shop
    response = conforms(client.post(f"{API}/vouchers/{codes[0]}/redeem", json={"bill_fen": 3000},
                                    headers={"Authorization": f"Bearer {merchant.key}"}))
    assert response.status_code == 201


def test_a_replaced_key_stops_working(app, client, shop):
    merchant, _, _, codes = shop
    with app.app_context():
        new = merchants.new_key(merchant.id)
        db.session.remove()
    assert redeem(client, merchant.key, codes[0]).status_code == 401
    assert redeem(client, new, codes[0]).status_code == 201


def test_each_key_has_its_own_rate_limit(app, client, shop, monkeypatch):
    merchant, other, _, _ = shop
    monkeypatch.setitem(app.config, "TILL_LIMIT_PER_KEY", "3 per minute")
    answers = [call(client, "/redemptions/1", merchant.key, method="GET").status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    assert call(client, "/members/verify", merchant.key, {"code": "1"}).status_code == 429  # one budget per key
    assert call(client, "/redemptions/1", other.key, method="GET").status_code == 404  # the other till is served


# ----------------------------------------------------------------------------------------- verifying

def test_verify_a_scanned_token_shows_the_membership_offers_and_usable_vouchers(app, client, shop, make_campaign,
                                                                               issue):
    merchant, _, member, codes = shop
    elsewhere = issue(member, make_campaign(category="fuel"))  # a fuel voucher is of no use at a restaurant
    with app.app_context():
        offer = merchants.add_offer(merchants.get(merchant.id), merchants.OfferData(
            title="会员九折", kind=OfferKind.PERCENT, percent_off=10), NOW)
        offer_id = offer.id
        token = members.card_token(db.session.get(Membership, member.id), NOW)
        db.session.remove()
    response = call(client, "/members/verify", merchant.key, {"token": token})
    assert response.status_code == 200
    body = response.json
    assert body["valid"] is True and body["status"] == "active"
    assert body["name"] == "张*丰" and body["number"] == "*" * (len(member.number) - 4) + member.number[-4:]
    assert body["union"] == "天河区总工会" and body["valid_until"] is None
    assert [o["id"] for o in body["offers"]] == [offer_id] and body["offers"][0]["percent_off"] == 10
    assert sorted(v["code"] for v in body["vouchers"]) == sorted(codes)
    assert elsewhere[0] not in {v["code"] for v in body["vouchers"]}
    assert body["vouchers"][0]["amount_fen"] == 500 and body["vouchers"][0]["campaign"].startswith("测试活动")


def test_verify_a_typed_code(app, client, shop):
    merchant, _, member, _ = shop
    with app.app_context():
        code = members.card_code(db.session.get(Membership, member.id), NOW)
        db.session.remove()
    body = call(client, "/members/verify", merchant.key, {"code": code}).json
    assert body["valid"] is True and len(body["vouchers"]) == 2


def test_an_expired_membership_is_shown_as_not_valid_without_vouchers(app, client, make_merchant, make_member):
    merchant = make_merchant()
    member = make_member(valid_until=(NOW - timedelta(days=3)).date().isoformat())
    with app.app_context():
        token = members.card_token(db.session.get(Membership, member.id), NOW)
        db.session.remove()
    body = call(client, "/members/verify", merchant.key, {"token": token}).json
    assert body["valid"] is False and body["status"] == "active" and body["vouchers"] == body["offers"] == []


def test_forged_altered_and_expired_tokens_are_422(app, client, shop):
    merchant, _, member, _ = shop
    with app.app_context():
        membership = db.session.get(Membership, member.id)
        token = members.card_token(membership, NOW)
        stale = members.card_token(membership, NOW - timedelta(seconds=61))
        old_code = members.card_code(membership, NOW - timedelta(seconds=120))
        db.session.remove()
    payload, signed = token.split(".", 1)
    altered = URLSafeTimedSerializer("x").dump_payload(member.id + 1).decode() + "." + signed  # another member
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")  # the signature changed
    forged = URLSafeTimedSerializer("another-secret-key-that-is-long-enough", salt="member-card").dumps(member.id)
    assert payload != altered.split(".", 1)[0]
    for body in ({"token": altered}, {"token": tampered}, {"token": forged}, {"token": "not-a-token"}, {"token": stale},
                 {"code": old_code}, {"code": f"{member.id}000000"}):
        response = call(client, "/members/verify", merchant.key, body)
        assert response.status_code == 422, body
        assert "member code" in response.json["error"]["message"], body
    assert "expired" in call(client, "/members/verify", merchant.key, {"token": stale}).json["error"]["message"]


def test_a_token_replayed_after_its_60_seconds_fails(app, shop, ctx):
    _, _, member, _ = shop
    shown = NOW
    token = members.card_token(db.session.get(Membership, member.id), shown)
    assert members.read_card(token, shown + timedelta(seconds=59)).id == member.id
    with pytest.raises(NotRedeemable, match="已过期"):
        members.read_card(token, shown + timedelta(seconds=61))


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 12345}, {"token": "a", "code": "1"},
                                  {"token": "x" * 201}, {"token": "a", "member": 1}, ["token"], "token"])
def test_verify_refuses_malformed_bodies_with_400(client, shop, body):
    merchant, _, _, _ = shop
    response = call(client, "/members/verify", merchant.key, body)
    assert response.status_code == 400 and response.json["error"]["status"] == 400


def test_verify_needs_a_json_body(client, shop):
    merchant, _, _, _ = shop
    form = conforms(client.post(f"{API}/members/verify", data={"token": "x"}, headers={"X-API-Key": merchant.key}))
    assert form.status_code == 415 and "JSON" in form.json["error"]["message"]
    broken = conforms(client.post(f"{API}/members/verify", data="{token:", content_type="application/json",
                                  headers={"X-API-Key": merchant.key}))
    assert broken.status_code == 400
    huge = call(client, "/members/verify", merchant.key, {"token": "x" * 10_000})
    assert huge.status_code == 413


# ---------------------------------------------------------------------------------------- redeeming

def test_redeem_once_then_read_and_undo(app, client, shop):
    merchant, other, member, codes = shop
    response = redeem(client, merchant.key, codes[0].lower())  # codes are read case-insensitively
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"{API}/redemptions/{body['id']}"
    assert body["voucher"] == codes[0] and body["bill_fen"] == 3000 and body["voucher_saving_fen"] == 500
    assert body["offer_saving_fen"] == 0 and body["saving_fen"] == 500 and body["paid_fen"] == 2500
    assert body["member"] == {"name": "张*丰", "number": members.mask_number(member.number)}
    assert body["channel"] == "till" and body["undone_at"] is None
    assert body["undo_until"] > body["redeemed_at"]
    assert call(client, f"/redemptions/{body['id']}", merchant.key, method="GET").json == body
    assert call(client, f"/redemptions/{body['id']}", other.key, method="GET").status_code == 404
    assert call(client, f"/redemptions/{body['id']}/undo", other.key).status_code == 404
    undone = call(client, f"/redemptions/{body['id']}/undo", merchant.key)
    assert undone.status_code == 200 and undone.json["undone_at"]
    again = call(client, f"/redemptions/{body['id']}/undo", merchant.key)
    assert again.status_code == 409 and "already undone" in again.json["error"]["message"]
    assert redeem(client, merchant.key, codes[0]).status_code == 201  # the voucher was given back


def test_a_used_voucher_is_409_with_when_it_was_used(app, client, shop):
    merchant, other, _, codes = shop
    assert redeem(client, merchant.key, codes[0]).status_code == 201
    before = snapshot(app)
    for key in (merchant.key, other.key):
        response = redeem(client, key, codes[0])
        assert response.status_code == 409
        assert "already used on" in response.json["error"]["message"]
    assert snapshot(app) == before


def test_an_unknown_code_is_404(client, shop):
    merchant, _, _, _ = shop
    response = redeem(client, merchant.key, "ABCDEFGHJKLM")
    assert response.status_code == 404 and "No voucher has this code" in response.json["error"]["message"]


def test_an_offer_applies_before_the_voucher(app, client, shop):
    merchant, _, _, codes = shop
    with app.app_context():
        offer = merchants.add_offer(merchants.get(merchant.id), merchants.OfferData(
            title="满100减20", kind=OfferKind.FIXED, amount_fen=2000, min_spend_fen=10000), NOW)
        offer_id = offer.id
        db.session.remove()
    body = redeem(client, merchant.key, codes[0], {"bill_fen": 12000, "offer_id": offer_id}).json
    assert (body["offer_saving_fen"], body["voucher_saving_fen"], body["paid_fen"]) == (2000, 500, 9500)
    assert body["offer"] == {"id": offer_id, "title": "满100减20"}
    refused = redeem(client, merchant.key, codes[1], {"bill_fen": 5000, "offer_id": offer_id})
    assert refused.status_code == 422 and "at least ¥100.00" in refused.json["error"]["message"]


@pytest.mark.parametrize("restriction", ["merchant", "category"])
def test_another_merchants_voucher_is_422_and_changes_nothing(app, client, make_merchant, make_member,
                                                              make_campaign, issue, restriction):
    merchant, cinema = make_merchant("catering"), make_merchant("cinema")
    kept = {"merchant_id": cinema.id} if restriction == "merchant" else {"category": "cinema"}
    member = make_member()
    codes = issue(member, make_campaign(**kept))
    before = snapshot(app)
    response = redeem(client, merchant.key, codes[0])
    assert response.status_code == 422 and "cannot be used at this merchant" in response.json["error"]["message"]
    assert snapshot(app) == before
    assert redeem(client, cinema.key, codes[0]).status_code == 201


def test_a_voucher_outside_its_validity_is_422(app, client, make_merchant, make_member, make_campaign, issue):
    merchant, member = make_merchant(), make_member()
    past = make_campaign(starts_at=NOW - timedelta(days=10), ends_at=NOW - timedelta(days=1))
    expired = issue(member, past, at=NOW - timedelta(days=5))[0]
    future = make_campaign(starts_at=NOW + timedelta(days=1))
    upcoming = issue(member, future, at=NOW + timedelta(days=2))[0]
    before = snapshot(app)
    response = redeem(client, merchant.key, expired)
    assert response.status_code == 422 and "expired on" in response.json["error"]["message"]
    response = redeem(client, merchant.key, upcoming)
    assert response.status_code == 422 and "cannot be used before" in response.json["error"]["message"]
    assert snapshot(app) == before


def test_a_stopped_campaigns_voucher_is_422(app, client, make_user, shop):
    merchant, _, _, codes = shop
    admin = make_user("admin")
    with app.app_context():
        campaign_id = db.session.scalar(select(Voucher.campaign_id).where(Voucher.code == codes[0]))
        benefits.stop_campaign(campaign_id, db.session.get(User, admin.id), NOW)
        db.session.remove()
    response = redeem(client, merchant.key, codes[0])
    assert response.status_code == 422 and "stopped" in response.json["error"]["message"]


@pytest.mark.parametrize("bill", [-100, 0, 1.5, 3000.0, "3000", True, None, merchants.MAX_BILL_FEN + 1, 10**30,
                                  [3000], {"fen": 3000}])
def test_a_bad_bill_is_400_naming_bill_fen_and_changes_nothing(app, client, shop, bill):
    merchant, _, _, codes = shop
    before = snapshot(app)
    response = redeem(client, merchant.key, codes[0], {"bill_fen": bill})
    assert response.status_code == 400
    assert "bill_fen" in response.json["error"]["fields"]
    assert snapshot(app) == before


@pytest.mark.parametrize(("body", "field"), [({"bill_fen": 3000, "ofer_id": 1}, "ofer_id"),
                                             ({"bill_fen": 3000, "offer_id": "1"}, "offer_id"),
                                             ({"bill_fen": 3000, "offer_id": 0}, "offer_id"),
                                             ({}, "bill_fen")])
def test_unknown_or_bad_fields_are_400(app, client, shop, body, field):
    merchant, _, _, codes = shop
    before = snapshot(app)
    response = redeem(client, merchant.key, codes[0], body)
    assert response.status_code == 400 and field in response.json["error"]["fields"]
    assert snapshot(app) == before


def test_redeem_needs_a_json_object(app, client, shop):
    merchant, _, _, codes = shop
    url, headers = f"{API}/vouchers/{codes[0]}/redeem", {"X-API-Key": merchant.key}
    assert conforms(client.post(url, data={"bill_fen": "3000"}, headers=headers)).status_code == 415
    assert conforms(client.post(url, data="3000", content_type="application/json", headers=headers)).status_code == 400
    assert conforms(client.post(url, data="[", content_type="application/json", headers=headers)).status_code == 400


def test_the_largest_bill_is_accepted(client, shop):
    merchant, _, _, codes = shop
    assert redeem(client, merchant.key, codes[0], {"bill_fen": merchants.MAX_BILL_FEN}).status_code == 201
    assert redeem(client, merchant.key, codes[1], {"bill_fen": 1}).json["paid_fen"] == 0  # never below zero


# ------------------------------------------------------------------------------------------- retries

def test_an_idempotency_key_makes_a_retry_return_the_first_answer(app, client, shop):
    merchant, other, _, codes = shop
    first = redeem(client, merchant.key, codes[0], **{"Idempotency-Key": "till-7-0001"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    retry = redeem(client, merchant.key, codes[0], **{"Idempotency-Key": "till-7-0001"})
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json and retry.headers["Location"] == first.headers["Location"]
    before = snapshot(app)
    changed = redeem(client, merchant.key, codes[0], {"bill_fen": 4000}, **{"Idempotency-Key": "till-7-0001"})
    assert changed.status_code == 400 and "Idempotency-Key" in changed.json["error"]["fields"]
    other_voucher = redeem(client, merchant.key, codes[1], **{"Idempotency-Key": "till-7-0001"})
    assert other_voucher.status_code == 400
    assert snapshot(app) == before
    # Keys are the merchant's own: another till may use the same one for its own sale.
    assert redeem(client, other.key, codes[1], **{"Idempotency-Key": "till-7-0001"}).status_code == 201


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_a_bad_idempotency_key_is_400(client, shop, key):
    merchant, _, _, codes = shop
    response = redeem(client, merchant.key, codes[0], **{"Idempotency-Key": key})
    assert response.status_code == 400 and "Idempotency-Key" in response.json["error"]["fields"]


# ---------------------------------------------------------------------------------------------- undo

def test_undo_after_five_minutes_is_409(app, client, make_merchant, make_member, make_campaign, issue):
    merchant, member = make_merchant(), make_member()
    code = issue(member, make_campaign(), at=NOW - timedelta(hours=1))[0]
    with app.app_context():
        sale = benefits.Sale(bill_fen=3000, voucher_code=code)
        done = benefits.redeem(merchants.get(merchant.id), sale, NOW - timedelta(minutes=5, seconds=5),
                               channel="till")
        redemption_id = done.redemption.id
        db.session.remove()
    before = snapshot(app)
    response = call(client, f"/redemptions/{redemption_id}/undo", merchant.key)
    assert response.status_code == 409 and "within 5 minutes" in response.json["error"]["message"]
    assert snapshot(app) == before


def test_unknown_redemptions_are_404(client, shop):
    merchant, _, _, _ = shop
    assert call(client, "/redemptions/999999", merchant.key, method="GET").status_code == 404
    assert call(client, "/redemptions/999999/undo", merchant.key).status_code == 404


# ------------------------------------------------------------------------- claims (the service's rules)

def test_a_member_not_eligible_is_refused_and_nothing_changes(app, make_member, make_campaign):
    member = make_member(tag="factory")
    campaign = make_campaign(tag="delivery")
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(PermissionDenied, match="仅限"):
            benefits.claim(db.session.get(Membership, member.id), campaign.id, NOW)
        db.session.remove()
    assert snapshot(app) == before


def test_over_the_per_member_limit_is_409_and_nothing_changes(app, make_member, make_campaign):
    member = make_member()
    campaign = make_campaign(per_member=2)
    with app.app_context():
        membership = db.session.get(Membership, member.id)
        for _ in range(2):
            benefits.claim(membership, campaign.id, NOW)
        db.session.remove()
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(Conflict, match="已领满"):
            benefits.claim(db.session.get(Membership, member.id), campaign.id, NOW)
        db.session.remove()
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voucher).where(
            Voucher.status == VoucherStatus.AVAILABLE)) == 2
        db.session.remove()
