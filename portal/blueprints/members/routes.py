"""Union members' own pages: sign-up, the member card with its rotating QR and code, the voucher wallet with
the savings, and the campaigns to claim vouchers from.

A member account without a membership (made by an administrator) or with one that is pending, rejected or
lapsed sees each page with an explanation in place of the card, the codes and the Claim buttons.
"""

import logging

from flask import Blueprint, flash, render_template, request, session, url_for
from flask_login import current_user, login_user

from portal import clock
from portal.access import public, roles
from portal.blueprints.members.forms import ClaimForm, SignUpForm
from portal.exceptions import DomainError, PermissionDenied
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import is_fragment_request, redirect_after_post, render_page_or_partial
from portal.i18n import gettext as _
from portal.models import MembershipStatus, Role
from portal.services import benefits, members, qr, users
from portal.vocabulary import MEMBERSHIP_STATUS_LABELS

bp = Blueprint("members", __name__)
log = logging.getLogger(__name__)

SIGNUP_FAILURES_PER_ADDRESS = "10 per hour"  # guessing roster numbers and names
SIGNUP_ATTEMPTS_PER_ADDRESS = "30 per hour"  # any sign-up, so pending ones cannot flood the administrators
REFRESH_SECONDS = 20  # the card's code is good for 30 to 60 s; a fresh one is fetched well before it ends
NO_STORE = ("members.card", "members.code")


@bp.context_processor
def _template_helpers() -> dict:
    return {"show_code": benefits.show_code}


# The membership as the account page shows it too: app-wide, so that page needs no more than the membership.
bp.add_app_template_filter(members.mask_name, "member_name")
bp.add_app_template_filter(members.mask_number, "member_number")
bp.add_app_template_global(members.is_valid, "membership_valid")


@bp.app_template_global("membership_status")
def _status(membership, now) -> str:
    """Active, waiting, not approved, or expired: an active membership past its last day is not valid."""
    if membership.status is MembershipStatus.ACTIVE and not members.is_valid(membership, now):
        return _("Expired")
    return str(MEMBERSHIP_STATUS_LABELS[membership.status])


@bp.app_template_filter("digit_groups")
def _digit_groups(code: str) -> str:
    """12345678 → "12 345 678": easier to read off a phone and to type at a till than eight digits in a row."""
    head = len(code) % 3
    return " ".join(([code[:head]] if head else []) + [code[i:i + 3] for i in range(head, len(code), 3)])


@bp.after_request
def _never_cache(response):
    """The card's proofs must not outlive their minute in any cache, back-button history included. (Every
    signed-in page gets no-store from portal.security; these must keep it whatever becomes of that rule.)"""
    if request.endpoint in NO_STORE:
        response.headers["Cache-Control"] = "no-store"
    return response


def _failed(response) -> bool:
    return response.status_code != 303 and "HX-Redirect" not in response.headers


def _membership():
    return members.of_user(current_user) if current_user.is_authenticated else None


def _usable_membership():
    """The signed-in member's membership, which the wallet's and campaigns' actions need."""
    membership = _membership()
    if membership is None:
        raise PermissionDenied(_("Your account is not linked to a union membership."))
    return membership


@bp.get("/member/")
@public
def index():
    membership = _membership()
    saved = benefits.savings(membership) if membership else 0
    return render_template("members/index.html", membership=membership, saved=saved,
                           valid=bool(membership) and members.is_valid(membership, clock.now()))


@bp.route("/member/signup", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(SIGNUP_FAILURES_PER_ADDRESS, methods=["POST"], deduct_when=_failed)
@limiter.limit(SIGNUP_ATTEMPTS_PER_ADDRESS, methods=["POST"], scope="member-signup-attempts")
def signup():
    form = SignUpForm()
    membership = form.try_sign_up(clock.now()) if form.validate_on_submit() else None
    if membership is None:
        return render_template("members/signup.html", form=form), 422 if form.is_submitted() else 200
    _sign_in(membership.user, bool(form.remember.data))
    log.info("member signed up user=%s status=%s", membership.user_id, membership.status.value)
    if membership.status is MembershipStatus.ACTIVE:
        flash(_("Welcome! Your membership is confirmed. This is your member card."), "success")
        return redirect_after_post(url_for("members.card"))
    flash(_("Your account is ready. Your membership number is waiting for an administrator's approval."), "success")
    return redirect_after_post(url_for("members.index"))


def _sign_in(user, remember: bool) -> None:
    """Exactly as accounts.login signs a user in: no pre-sign-up state survives into the new session."""
    session.clear()
    users.start_session(user, clock.now(), remember=remember)
    login_user(user, remember=remember)


# ------------------------------------------------------------------------------------------------ the card

def _card(membership, now) -> dict:
    """What the card shows; the proofs only while the membership is valid."""
    valid = membership is not None and members.is_valid(membership, now)
    if not valid:
        return {"membership": membership, "valid": False, "now": now}
    code = members.card_code(membership, now)
    return {"membership": membership, "valid": True, "now": now, "code": code,
            "qr": qr.svg(members.card_token(membership, now), _("Member QR code for the cashier to scan")),
            "expires": members.card_expires(now), "refresh": REFRESH_SECONDS,
            "announce": is_fragment_request() and now.second < REFRESH_SECONDS}


@bp.get("/member/card")
@roles(Role.MEMBER)
def card():
    return render_template("members/card.html", **_card(_membership(), clock.now()))


@bp.get("/member/card/code")
@roles(Role.MEMBER)
def code():
    """The QR and code alone, fetched by htmx every REFRESH_SECONDS; a whole card page without JavaScript."""
    return render_page_or_partial("members/card.html", "members/_code.html", **_card(_membership(), clock.now()))


# ---------------------------------------------------------------------------------------------- the wallet

@bp.get("/member/wallet")
@roles(Role.MEMBER)
def wallet():
    membership, now = _membership(), clock.now()
    if membership is None:
        return render_template("members/wallet.html", membership=None)
    return render_template("members/wallet.html", membership=membership, now=now,
                           groups=benefits.wallet(membership, now), saved=benefits.savings(membership),
                           history=benefits.history(membership))


# ------------------------------------------------------------------------------------------- the campaigns

def _campaigns(membership, problem: str | None = None, status: int = 200):
    """The campaigns page; a refused claim comes back on it with its reason and status."""
    now = clock.now()
    offerings = benefits.offerings(membership, now) if membership else []
    forms = {o.campaign.id: ClaimForm(formdata=None) for o in offerings if o.reason is None}
    return render_template("members/campaigns.html", membership=membership, offerings=offerings, forms=forms,
                           problem=problem, now=now), status


@bp.get("/member/campaigns")
@roles(Role.MEMBER)
def campaigns():
    return _campaigns(_membership())


@bp.post("/member/campaigns/<int:campaign_id>/claim")
@roles(Role.MEMBER)
@rerender_on_csrf_error
def claim(campaign_id: int):
    form, membership = ClaimForm(), _usable_membership()
    if not form.validate_on_submit():
        return _campaigns(membership, form.problem(), 400)
    try:
        voucher = benefits.claim(membership, campaign_id, clock.now(), key=form.record_key())
    except DomainError as error:
        return _campaigns(membership, str(error.message), error.status)
    flash(_("Claimed: your %(campaign)s voucher %(code)s is in your wallet.", campaign=voucher.campaign.name,
            code=benefits.show_code(voucher.code)), "success")
    return redirect_after_post(url_for("members.wallet"))
