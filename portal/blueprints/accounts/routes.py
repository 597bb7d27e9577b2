"""Sign-in (the password, then the second factor), sign-out, the account page and the changes that ask for the
password again: phone number, password, second factor; and administrators' resets of a second factor.

Between the password and the code there is no login session, only a signed, dated value in the cookie
(twofactor.pending_sign_in), so no signed-in page answers a password alone. Recovery codes are shown once, in the
answer to the form that made them (never stored in a cookie or sent across a redirect), and never cached.
"""

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal import clock
from portal.access import public, roles, signed_in
from portal.blueprints.accounts import forms
from portal.blueprints.accounts.forms import LoginForm
from portal.exceptions import AuthenticationFailed, DomainError
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post
from portal.i18n import gettext as _
from portal.models import Role, SecondFactorChange
from portal.services import members, regions, twofactor, users

bp = Blueprint("accounts", __name__)

log = logging.getLogger(__name__)


def _account_key() -> str:
    """Throttle by the account tried, whichever address the attempts come from."""
    raw = request.form.get("phone", "")
    try:
        return "login-account:" + users.normalise_phone(raw)
    except Exception:  # noqa: BLE001 — malformed numbers share one bucket
        return "login-account:malformed"


def _failed(response) -> bool:
    return response.status_code != 303 and "HX-Redirect" not in response.headers


def _safe_next(target: str | None) -> str | None:
    parts = urlsplit(target or "")
    ok = target and target.startswith("/") and not target.startswith("//") and not parts.netloc
    return target if ok and "\\" not in target else None


LANDINGS = {Role.MEMBER: "members.card", Role.MERCHANT: "merchants.counter",
            Role.STATION_MANAGER: "stations.manage", Role.STAFF: "staff.index", Role.ADMIN: "staff.index"}


def _landing(user) -> str:
    """Where each role works: a member shows the card, a cashier serves at the counter, a manager keeps the
    stations, staff answer the inbox."""
    return url_for(LANDINGS.get(user.role, "accounts.profile"))


def _refused(event: str, error: DomainError, level: int = logging.WARNING) -> None:
    """A failed sign-in or re-authentication, logged with the account id, the route and the request id (never a
    phone number, a name or what was typed); it counts against the second factor's limits."""
    g.second_factor_refused = isinstance(error, AuthenticationFailed)
    if g.second_factor_refused:
        log.log(level, "%s user=%s endpoint=%s request_id=%s reason=%s ip=%s", event,
                getattr(error, "account_id", None) or "-", request.endpoint, g.get("request_id"),
                getattr(error, "reason", "-"), request.remote_addr)


def _was_refused(response) -> bool:
    return g.get("second_factor_refused", False)


def _second_factor_key() -> str:
    """Throttle codes by the account they are for: the signed-in one, or the half-done sign-in's."""
    if current_user.is_authenticated:
        return f"second-factor:{current_user.id}"
    pending = _pending()
    return f"second-factor:{pending.user.id}" if pending else "second-factor:none"


def _code_limits(view):
    """The second factor's own limits on failed codes: per account (shared by the code step and every
    re-authentication, so moving between forms gains nothing) and per address."""
    view = limiter.limit(lambda: current_app.config["SECOND_FACTOR_LIMIT_PER_ADDRESS"], methods=["POST"],
                         deduct_when=_was_refused, scope="second-factor-address")(view)
    return limiter.shared_limit(lambda: current_app.config["SECOND_FACTOR_LIMIT_PER_ACCOUNT"],
                                scope="second-factor-account", key_func=_second_factor_key, methods=["POST"],
                                deduct_when=_was_refused)(view)


PENDING = "sign_in_pending"


def _pending() -> twofactor.Pending | None:
    if "pending" not in g:
        g.pending = twofactor.resume_sign_in(session.get(PENDING), clock.now())
    return g.pending


def _private(page: str, status: int = 200):
    """A page that shows a secret or recovery codes: kept by no cache, whoever is signed in."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _start(user, remember: bool, method: str) -> None:
    session.clear()  # no pre-login state (the half-done sign-in included) survives into the signed-in session
    users.start_session(user, clock.now(), remember=remember)
    login_user(user, remember=remember and user.role in users.REMEMBERABLE)
    log.info("login ok user=%s second_factor=%s request_id=%s ip=%s", user.id, method, g.get("request_id"),
             request.remote_addr)


def _after_password(user, remember: bool, target: str | None):
    """Signed in at once, or on to the code (or, for staff without one yet, to enrolment) with no session yet."""
    if not twofactor.asks_for(user):
        _start(user, remember, "none")
        return redirect_after_post(_safe_next(target) or _landing(user))
    session.clear()
    session[PENDING] = twofactor.pending_sign_in(user, clock.now(), remember=remember, target=_safe_next(target))
    step = "accounts.second_step" if twofactor.enrolled(user) else "accounts.first_enrolment"
    return redirect_after_post(url_for(step))


@bp.route("/login", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], deduct_when=_failed,
               key_func=_account_key, scope="login-account")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.phone.data, form.password.data, clock.now())
        except AuthenticationFailed as error:
            _refused("login failed", error, logging.INFO)
            form.show_error(error)
        else:
            return _after_password(user, form.remember.data, request.args.get("next"))
    return render_template("accounts/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@_code_limits
def second_step():
    """The code after the password (`?recovery=1`: a recovery code instead)."""
    pending, recovery = _pending(), request.args.get("recovery") == "1"
    if pending is None or not twofactor.enrolled(pending.user):
        return _restart(pending)
    form = forms.RecoveryCodeForm() if recovery else forms.CodeForm()
    if form.validate_on_submit():
        try:
            method = users.second_step(pending.user.id, form.code.data, clock.now())
        except AuthenticationFailed as error:
            _refused("recovery code refused" if recovery else "second factor failed", error)
            form.show_error(error)
        else:
            return _signed_in_by(pending, method)
    return render_template("accounts/code.html", form=form, recovery=recovery)


def _restart(pending: twofactor.Pending | None):
    """No half-done sign-in (it took too long, or was never begun): say so; staff still to enrol go there."""
    if pending is not None and not twofactor.enrolled(pending.user):
        return redirect(url_for("accounts.first_enrolment"))
    if pending is not None:
        return redirect(url_for("accounts.second_step"))
    return render_template("accounts/expired.html")


def _signed_in_by(pending: twofactor.Pending, method: str):
    user, target = pending.user, pending.target
    _start(user, pending.remember, method)
    if method == twofactor.Method.RECOVERY:
        left = twofactor.recovery_codes_left(user.id)
        flash(_("You signed in with a recovery code, which now no longer works (recovery codes left: %(num)d). If "
                "your phone is lost, set up the authenticator app on a new one.", num=left), "success")
        return redirect_after_post(url_for("accounts.second_factor"))
    return redirect_after_post(_safe_next(target) or _landing(user))


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@_code_limits
def first_enrolment():
    """Staff and administrators set up the authenticator at their first sign-in, after the password."""
    pending, form = _pending(), forms.FirstEnrolmentForm()
    if pending is None or twofactor.enrolled(pending.user):
        return _restart(pending)
    if form.validate_on_submit():
        try:
            codes = users.enrol_at_sign_in(pending.user.id, pending.nonce, form.code.data, clock.now())
        except AuthenticationFailed as error:
            _refused("second factor enrolment failed", error)
            form.show_error(error)
        else:
            _start(pending.user, pending.remember, "enrolled")
            return _private(render_template("accounts/recovery_codes.html", codes=codes, first=True,
                                            onward=_safe_next(pending.target) or _landing(pending.user)))
    setup = twofactor.enrolment(pending.user, pending.nonce)
    return _private(render_template("accounts/enrol_first.html", form=form, setup=setup))


@bp.post("/logout")
@signed_in
def logout():
    users.end_session(current_user.get_id(), clock.now())
    logout_user()
    session.clear()
    return redirect_after_post(url_for("pages.home"))


@bp.get("/account")
@signed_in
def profile():
    path = regions.ancestry(current_user.region_code) if current_user.region_code else []
    return render_template("accounts/profile.html", user=current_user, path=path, now=clock.now(),
                           membership=members.of_user(current_user) if current_user.role is Role.MEMBER else None,
                           enrolled=twofactor.enrolled(current_user))


# --------------------------------------------------------------- changes that ask for the password again

def _reauthenticated(view):
    """A signed-in change that asks for the password (and a current code) again: a CSRF failure gives the form
    back, and failures count against the second factor's limits."""
    return rerender_on_csrf_error(_code_limits(view))


def _change_refused(form, error: DomainError) -> None:
    _refused("reauthentication failed", error)
    form.show_error(error)


def _done(message, endpoint: str = "accounts.profile"):
    """The answer to a change made: back to the account page (or `endpoint`), saying what changed."""
    def answer(_made=None):
        flash(message, "success")
        return redirect_after_post(url_for(endpoint))
    return answer


def _change(form, template: str, change, answer, **context):
    """The one shape of a change that asks for the password and a code again: `change(form)` makes it and
    `answer(what it returned)` answers; a refusal (a wrong password or code counts against the limits) shows on the
    form, which comes back."""
    if form.validate_on_submit():
        try:
            made = change(form)
        except DomainError as error:
            _change_refused(form, error)
        else:
            return answer(made)
    return render_template(template, form=form, enrolled=twofactor.enrolled(current_user), **context)


def _codes_page(codes: list[str]):
    """The recovery codes, shown once, on a page no cache keeps."""
    return _private(render_template("accounts/recovery_codes.html", codes=codes, first=False,
                                    onward=url_for("accounts.second_factor")))


@bp.get("/account/second-factor")
@signed_in
def second_factor():
    """Where an account's second factor stands, and what may be done with it."""
    return render_template("accounts/second_factor.html", user=current_user,
                           required=twofactor.required_for(current_user), enrolled=twofactor.enrolled(current_user),
                           left=twofactor.recovery_codes_left(current_user.id))


@bp.route("/account/second-factor/new", methods=["GET", "POST"])
@signed_in
@_reauthenticated
def enrol():
    """Set up an authenticator: for the first time (members and others who wish), or anew on another phone."""
    form = forms.EnrolmentForm()
    form.nonce.data = form.nonce.data or twofactor.new_nonce()
    if form.validate_on_submit():
        try:
            codes = users.enrol_second_factor(current_user.id, password=form.password.data, code=form.code.data,
                                              nonce=form.nonce.data, new_code=form.new_code.data, now=clock.now(),
                                              keep=current_user.get_id())
        except DomainError as error:
            _change_refused(form, error)
        else:
            return _codes_page(codes)
    setup = twofactor.enrolment(current_user, _offered_nonce(form))
    return _private(render_template("accounts/enrol.html", form=form, setup=setup,
                                    enrolled=twofactor.enrolled(current_user)))


def _offered_nonce(form) -> str:
    """The nonce naming the secret the page shows: the one the form carried, or a new one for a form that
    carried a malformed one (the page then shows a new QR code)."""
    if form.nonce.errors:
        form.nonce.data = twofactor.new_nonce()
    return form.nonce.data


@bp.route("/account/second-factor/recovery-codes", methods=["GET", "POST"])
@signed_in
@_reauthenticated
def new_recovery_codes():
    """Ten new recovery codes (the old ones stop working), after the password and a code."""
    return _change(forms.ReauthenticationForm(), "accounts/new_recovery_codes.html", lambda form: (
        users.renew_recovery_codes(current_user.id, password=form.password.data, code=form.code.data,
                                   now=clock.now())), _codes_page)


@bp.route("/account/second-factor/off", methods=["GET", "POST"])
@signed_in
@_reauthenticated
def turn_off():
    """Back to the password alone: members, station managers and merchants only."""
    return _change(forms.ReauthenticationForm(), "accounts/turn_off.html", lambda form: (
        users.turn_off_second_factor(current_user.id, password=form.password.data, code=form.code.data,
                                     now=clock.now(), keep=current_user.get_id())),
        _done(_("The second factor is off: you sign in with your password alone.")),
        required=twofactor.required_for(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@_reauthenticated
def change_password():
    return _change(forms.PasswordChangeForm(), "accounts/password.html", lambda form: (
        users.change_password(current_user.id, password=form.password.data, code=form.code.data,
                              new_password=form.new_password.data, now=clock.now(), keep=current_user.get_id())),
        _done(_("Your password is changed. Anywhere else this account was signed in, it is signed out.")))


@bp.route("/account/phone", methods=["GET", "POST"])
@signed_in
@_reauthenticated
def change_phone():
    return _change(forms.PhoneChangeForm(), "accounts/phone.html", lambda form: (
        users.change_phone(current_user.id, password=form.password.data, code=form.code.data,
                           new_phone=form.new_phone.data, now=clock.now())),
        _done(_("Your mobile number is changed. Sign in with the new number from now on.")))


@bp.route("/account/second-factor/resets", methods=["GET", "POST"])
@roles(Role.ADMIN)
@rerender_on_csrf_error
def resets():
    """Administrators reset the second factor of someone who lost their phone; every reset is listed here."""
    form = forms.ResetForm()
    if form.validate_on_submit():
        try:
            user = users.reset_second_factor(form.phone.data, current_user, clock.now())
        except DomainError as error:
            form.show_error(error)
        else:
            log.info("second factor reset user=%s by=%s request_id=%s", user.id, current_user.id, g.get("request_id"))
            return _done(_("Done: that account's second factor is removed and it is signed out everywhere. It sets "
                           "up a new one at its next sign-in."), "accounts.resets")()
    return render_template("accounts/resets.html", form=form,
                           resets=twofactor.recent_changes(SecondFactorChange.RESET))
