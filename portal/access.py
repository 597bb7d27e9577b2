"""Who may use each endpoint. Every view declares it with one of these decorators; a test walks the URL map
and fails for any endpoint without a declaration."""

from __future__ import annotations

import logging
from functools import wraps

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from portal.errors import error_response, wants_json
from portal.i18n import lazy_gettext as _l
from portal.models.user import Role
from portal.services import merchants, open311

PUBLIC = "public"
SIGNED_IN = "signed_in"
API_KEY = "api_key"  # partner channels: the key of a registered channel, no cookies (and so no CSRF)
MERCHANT_KEY = "merchant_key"  # merchants' tills: the merchant's terminal key, no cookies (and so no CSRF)

log = logging.getLogger(__name__)


def _refused(status: int, reason: str, level: int = logging.WARNING) -> None:
    """A refused access, logged with the account id (when someone is signed in), the route and the request id:
    never a phone number, a name or a key."""
    user = current_user.id if current_user.is_authenticated else "-"
    log.log(level, "access refused status=%s user=%s endpoint=%s path=%s request_id=%s reason=%s", status, user,
            request.endpoint, request.path, g.get("request_id"), reason)


def public(view):
    view.access = PUBLIC
    return view


def roles(*allowed: Role):
    """Signed-in users whose role is one of `allowed`; anyone else gets the sign-in page or 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                _refused(401, "not signed in", logging.INFO)  # everyday: a bookmark, an ended session
                if wants_json():
                    abort(401)
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if allowed and current_user.role not in allowed:
                _refused(403, f"role {current_user.role.value}")
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = frozenset(allowed) or SIGNED_IN
        return wrapper

    return decorator


signed_in = roles()


def channel_key(view):
    """A registered partner channel's API key (form field api_key, as Open311 has it, or X-API-Key);
    the channel is then in g.api_channel. Without a valid key: 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.form.get("api_key") or request.headers.get("X-API-Key")
        g.api_channel = open311.channel_for_key(key)
        if g.api_channel is None:
            _refused(403, "channel key missing" if not key else "channel key unknown")
            abort(403)
        return view(*args, **kwargs)

    wrapper.access = API_KEY
    return wrapper


def _till_key() -> str | None:
    if key := request.headers.get("X-API-Key"):
        return key.strip()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def merchant_key(view):
    """A merchant's till: its terminal API key in X-API-Key or `Authorization: Bearer`; the merchant is then in
    g.merchant. Without a key, or with a key no active merchant has: 401, with the challenge HTTP asks for."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _till_key()
        g.merchant = merchants.by_key(key) if key else None
        if g.merchant is None:
            _refused(401, "till key unknown" if key else "till key missing")
            message = (_l("This API key is not valid. Ask the union for the merchant's current key.") if key else
                       _l("Send the merchant's terminal API key in the X-API-Key header (or as a Bearer token)."))
            return error_response(401, message, headers={"WWW-Authenticate": 'Bearer realm="terminal"'})
        return view(*args, **kwargs)

    wrapper.access = MERCHANT_KEY
    return wrapper
