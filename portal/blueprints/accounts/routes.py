"""Sign-in, sign-out and the account page."""

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal import clock
from portal.access import public, signed_in
from portal.blueprints.accounts.forms import LoginForm
from portal.exceptions import AuthenticationFailed
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post
from portal.models import Role
from portal.services import members, regions, users

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


def _landing(user) -> str:
    return url_for("staff.index" if user.role in (Role.STAFF, Role.ADMIN) else "accounts.profile")


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
            log.info("login failed ip=%s", request.remote_addr)
            form.show_error(error)
        else:
            session.clear()  # no pre-login state survives into the signed-in session
            users.start_session(user, clock.now(), remember=form.remember.data)
            login_user(user, remember=form.remember.data and user.role in users.REMEMBERABLE)
            log.info("login ok user=%s ip=%s", user.id, request.remote_addr)
            return redirect_after_post(_safe_next(request.args.get("next")) or _landing(user))
    return render_template("accounts/login.html", form=form)


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
                           membership=members.of_user(current_user) if current_user.role is Role.MEMBER else None)
