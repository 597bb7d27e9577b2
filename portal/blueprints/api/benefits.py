"""The terminal API for merchants' tills: read a member's card, redeem a voucher once, look at and undo a
redemption. Authenticated by the merchant's terminal key (portal.access.merchant_key), never by a cookie, so
CSRF does not apply; each key has its own rate limit.

Bodies are JSON objects read strictly: a field of the wrong type, out of range or unknown is a 400 naming it
(an unknown field is refused rather than ignored: a misspelt `offer_id` must not redeem without the offer).
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request, url_for

from portal import clock
from portal.access import merchant_key
from portal.blueprints.api.routes import bp
from portal.exceptions import InvalidInput
from portal.extensions import csrf, limiter
from portal.i18n import lazy_gettext as _l
from portal.inputs import body, parse
from portal.models import Offer, Redemption, Voucher
from portal.services import benefits, members, merchants

MAX_BODY = 4096  # bytes: a till sends a token or a bill, never more


# One budget per key across all the till's routes (it replaces the blueprint's limit per address: a
# supermarket's tills share one address).
_till_limit = limiter.shared_limit(lambda: current_app.config["TILL_LIMIT_PER_KEY"], scope="till",
                                   key_func=lambda: f"till:{g.merchant.api_key_hash}")


def _body(allowed: set[str]) -> dict:
    """The request's JSON object, read by the input layer (415, 413 on the bytes read, 400 naming the field)."""
    return body.json_body(MAX_BODY, allowed)


def _proof(fields: dict) -> str:
    given = [name for name in ("token", "code") if fields.get(name) is not None]
    if len(given) != 1:
        raise InvalidInput(fields={"token": _l("Send the scanned card token or the typed code (one of them).")})
    return parse.field_text(fields, given[0], 200)


def _offer(offer: Offer) -> dict:
    return {"id": offer.id, "title": offer.title, "kind": offer.kind.value, "percent_off": offer.percent_off,
            "amount_fen": offer.amount_fen, "max_saving_fen": offer.max_saving_fen,
            "min_spend_fen": offer.min_spend_fen, "terms": offer.terms}


def _voucher(voucher: Voucher) -> dict:
    return {"code": voucher.code, "campaign": voucher.campaign.name, "amount_fen": voucher.campaign.amount_fen,
            "min_spend_fen": voucher.campaign.min_spend_fen, "valid_until": voucher.valid_until.isoformat()}


def _redemption(redemption: Redemption) -> dict:
    membership = redemption.membership
    return {
        "id": redemption.id, "voucher": redemption.voucher.code if redemption.voucher else None,
        "offer": {"id": redemption.offer.id, "title": redemption.offer.title} if redemption.offer else None,
        "bill_fen": redemption.bill_fen, "offer_saving_fen": redemption.offer_saving_fen,
        "voucher_saving_fen": redemption.voucher_saving_fen, "saving_fen": redemption.saving_fen,
        "paid_fen": redemption.paid_fen, "channel": redemption.channel,
        "redeemed_at": redemption.created_at.isoformat(),
        "undo_until": (redemption.created_at + benefits.UNDO_WINDOW).isoformat(),
        "undone_at": redemption.undone_at.isoformat() if redemption.undone_at else None,
        "member": {"name": members.mask_name(membership.name), "number": members.mask_number(membership.number)},
    }


def _answer(redemption: Redemption, status: int = 200, **headers):
    location = url_for("api.redemption", redemption_id=redemption.id)
    return jsonify(_redemption(redemption)), status, {"Location": location, **headers}


@bp.post("/members/verify")
@csrf.exempt
@merchant_key
@_till_limit
def verify_member():
    """A scanned card token or a typed card code → the membership, and what applies at this merchant."""
    now = clock.now()
    membership = members.read_card(_proof(_body({"token", "code"})), now)
    found = benefits.checkout(g.merchant, membership, now)
    return jsonify({
        "valid": found.valid, "status": membership.status.value, "name": members.mask_name(membership.name),
        "number": members.mask_number(membership.number), "union": membership.union_name,
        "valid_until": membership.valid_until.isoformat() if membership.valid_until else None,
        "offers": [_offer(o) for o in found.offers], "vouchers": [_voucher(v) for v in found.vouchers]})


@bp.post("/vouchers/<code>/redeem")
@csrf.exempt
@merchant_key
@_till_limit
def redeem_voucher(code: str):
    """Once: 201 with the redemption; a retry with the same Idempotency-Key gets the first answer with 200."""
    fields = _body({"bill_fen", "offer_id"})
    sale = benefits.Sale(bill_fen=parse.field_whole(fields, "bill_fen", 1, merchants.MAX_BILL_FEN),
                         voucher_code=parse.text(code, "code", 40),
                         offer_id=parse.field_whole(fields, "offer_id", 1, parse.INT32_MAX, required=False))
    result = benefits.redeem(g.merchant, sale, clock.now(), channel="till", key=request.headers.get("Idempotency-Key"))
    if result.created:
        return _answer(result.redemption, 201)
    return _answer(result.redemption, 200, **{"Idempotent-Replayed": "true"})


@bp.get("/redemptions/<int:redemption_id>")
@merchant_key
@_till_limit
def redemption(redemption_id: int):
    return _answer(benefits.redemption_of(g.merchant, redemption_id))


@bp.post("/redemptions/<int:redemption_id>/undo")
@csrf.exempt
@merchant_key
@_till_limit
def undo_redemption(redemption_id: int):
    """Within 5 minutes of the redemption, by the same merchant: the voucher can be used again."""
    return _answer(benefits.undo(g.merchant, redemption_id, clock.now()))
