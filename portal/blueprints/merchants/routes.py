"""Partner merchants: the public directory and merchant pages, and the counter where merchant staff read a
member's card, redeem offers and vouchers, undo a mistake and keep their offers.

The confirm step never trusts the browser with who the member is: the card is read once, and the page carries a
signed, short-lived checkout ref (merchants.checkout_ref). Another merchant's redemption or offer answers 404.
"""

from flask import Blueprint, flash, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal import clock
from portal.access import public, roles
from portal.blueprints.merchants.forms import ActionForm, CardForm, DirectoryForm, OfferForm, RedeemForm
from portal.exceptions import Conflict, DomainError, InvalidInput, NotRedeemable
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post, render_page_or_partial
from portal.i18n import gettext as _
from portal.models import Role
from portal.services import benefits, members, merchants
from portal.services.sla import local_date
from portal.widgets.region_picker import build_picker

bp = Blueprint("merchants", __name__)
STAFF = Role.MERCHANT
CARD_READS = "30 per minute"  # per cashier: a six-digit code must not be guessed by trying


def _cashier() -> str:
    return f"counter:{current_user.get_id() or get_remote_address()}"


@bp.get("/merchants/")
@public
def index():
    """Nearest first from the phone's location or a place chosen, else every merchant by name."""
    form, picker = DirectoryForm(request.args), build_picker(request.args)
    valid = form.validate()
    origin, category = form.origin(picker.chosen), form.chosen_category()
    found = merchants.nearby(origin.lat, origin.lng, form.radius_m(), 50, category) if origin else None
    return render_page_or_partial("merchants/index.html", "merchants/_results.html", status=200 if valid else 400,
                                  form=form, picker=picker, origin=origin, found=found,
                                  listed=merchants.listing(category) if origin is None else None)


@bp.get("/merchants/<int:merchant_id>")
@public
def detail(merchant_id: int):
    merchant = merchants.get(merchant_id)
    return render_template("merchants/detail.html", merchant=merchant,
                           offers=merchants.live_offers(merchant.id, clock.now()),
                           links=merchants.navigation_links(merchant))


# ------------------------------------------------------------------------------------------- the counter

def _counter(merchant, card: CardForm | None = None, voucher: RedeemForm | None = None, status: int = 200,
             problems=()):
    """The counter page; a refused form comes back in place of its blank one, `problems` above the card's."""
    card = card or CardForm(formdata=None)
    card.form_errors.extend(problems)
    return render_template("merchants/counter.html", merchant=merchant, card=card,
                           voucher=voucher or RedeemForm(formdata=None), recent=benefits.recent(merchant)), status


def _chosen(found, form: RedeemForm):
    """The bill, the offer and the voucher the posted form names, as what the member would save and pay."""
    bill = form.bill_fen()
    offer = next((o for o in found.offers if str(o.id) == form.offer.data), None)
    voucher = next((v for v in found.vouchers if str(v.id) == form.voucher.data), None)
    return benefits.choice(bill, offer, voucher) if bill else None


def _checkout(merchant, membership, now, form: RedeemForm | None = None, status: int = 200, bill: int | None = None):
    """Is the membership valid, which offers and vouchers apply. With the bill known, what saves the member most
    is chosen to begin with and the amount to pay is shown; without it, the first offer."""
    found = benefits.checkout(merchant, membership, now)
    best = benefits.best_choice(bill, found.offers, found.vouchers) if bill and form is None else None
    offer = best.offer if best else (found.offers[0] if found.offers and bill is None else None)
    form = form or RedeemForm(formdata=None, ref=merchants.checkout_ref(merchant, membership, now),
                              bill=f"{bill / 100:.2f}" if bill else "", offer=str(offer.id) if offer else "",
                              voucher=str(best.voucher.id) if best and best.voucher else "")
    return render_template("merchants/checkout.html", merchant=merchant, checkout=found, form=form, now=now,
                           summary=best or _chosen(found, form)), status


@bp.get("/merchant/")
@roles(STAFF)
def counter():
    return _counter(merchants.of_staff(current_user))


@bp.post("/merchant/checkout")
@roles(STAFF)
@rerender_on_csrf_error
@limiter.limit(CARD_READS, key_func=_cashier)
def checkout():
    """Read the member's card (posted, so the code is in no URL or log) and show what applies."""
    merchant, form, now = merchants.of_staff(current_user), CardForm(), clock.now()
    if not form.validate_on_submit():
        return _counter(merchant, card=form, status=400)
    try:
        membership = members.read_card(form.code.data, now)
    except NotRedeemable as error:
        form.show_error(error, at="code")
        return _counter(merchant, card=form, status=error.status)
    return _checkout(merchant, membership, now, bill=form.bill_fen())


@bp.post("/merchant/checkout/amount")
@roles(STAFF)
@rerender_on_csrf_error
def amount():
    """The checkout again, with the bill and the choices posted, showing what the member saves and pays; nothing
    is redeemed. A checkout that cannot be read begins again with the card."""
    merchant, form, now = merchants.of_staff(current_user), RedeemForm(), clock.now()
    try:
        membership = merchants.read_checkout_ref(merchant, form.ref.data or "", now)
    except DomainError as error:
        return _counter(merchant, problems=[str(error.message)], status=error.status)
    return _checkout(merchant, membership, now, form)


def _redeem(merchant, membership, form: RedeemForm, now):
    """A chosen voucher is looked up among the member's own (the ref says whose), by id: its code never
    reaches the cashier's page."""
    vouchers = [v for group in benefits.wallet(membership, now).values() for v in group] if membership else []
    sale = form.sale(membership.id if membership else None, vouchers)
    return benefits.redeem(merchant, sale, now, staff=current_user, channel="counter", key=form.record_key())


@bp.post("/merchant/redeem")
@roles(STAFF)
@rerender_on_csrf_error
def redeem():
    merchant, form, now = merchants.of_staff(current_user), RedeemForm(), clock.now()
    membership, status = None, 400
    try:
        membership = merchants.read_checkout_ref(merchant, form.ref.data, now) if form.ref.data else None
        if form.validate_on_submit():
            done = _redeem(merchant, membership, form, now).redemption
            return redirect_after_post(url_for("merchants.receipt", redemption_id=done.id))
    except DomainError as error:  # nothing was changed: say why beside the form
        form.show(error)
        status = error.status
    if membership is not None:
        return _checkout(merchant, membership, now, form, status)
    if form.ref.data:  # a checkout that cannot be read (too old, altered): begin again with the card
        return _counter(merchant, problems=form.form_errors, status=status)
    return _counter(merchant, voucher=form, status=status)


def _receipt(merchant, redemption, status: int = 200, problem: str | None = None):
    return render_template("merchants/receipt.html", merchant=merchant, redemption=redemption,
                           can_undo=benefits.can_undo(redemption, clock.now()), form=ActionForm(),
                           problem=problem), status


@bp.get("/merchant/redemptions/<int:redemption_id>")
@roles(STAFF)
def receipt(redemption_id: int):
    merchant = merchants.of_staff(current_user)
    return _receipt(merchant, benefits.redemption_of(merchant, redemption_id))


@bp.post("/merchant/redemptions/<int:redemption_id>/undo")
@roles(STAFF)
def undo(redemption_id: int):
    """Within five minutes, by this merchant; the voucher is available again and the undo is audited."""
    merchant, form = merchants.of_staff(current_user), ActionForm()
    redemption = benefits.redemption_of(merchant, redemption_id)
    if form.validate_on_submit():
        try:
            benefits.undo(merchant, redemption.id, clock.now(), staff=current_user)
        except Conflict as error:
            return _receipt(merchant, redemption, error.status, str(error.message))
        flash(_("Undone. Nothing was redeemed, and any voucher can be used again."), "success")
    return redirect_after_post(url_for("merchants.receipt", redemption_id=redemption.id))


# ------------------------------------------------------------------------------------------------ offers

@bp.route("/merchant/offers", methods=["GET", "POST"])
@roles(STAFF)
@rerender_on_csrf_error
def offers():
    merchant, form = merchants.of_staff(current_user), OfferForm()
    if form.validate_on_submit():
        try:
            merchants.add_offer(merchant, form.offer_data(), clock.now())
        except InvalidInput as error:
            form.show_error(error)
        else:
            flash(_("Offer added. Members see it on your page and at the counter."), "success")
            return redirect_after_post(url_for("merchants.offers"))
    return render_template("merchants/offers.html", merchant=merchant, form=form,
                           offers=merchants.all_offers(merchant), today=local_date(clock.now()),
                           end_form=ActionForm(formdata=None)), 400 if form.is_submitted() else 200


@bp.post("/merchant/offers/<int:offer_id>/end")
@roles(STAFF)
def end_offer(offer_id: int):
    merchant, form = merchants.of_staff(current_user), ActionForm()
    if form.validate_on_submit():
        merchants.end_offer(merchant, offer_id)
        flash(_("The offer has ended. Members no longer see it."), "success")
    return redirect_after_post(url_for("merchants.offers"))
