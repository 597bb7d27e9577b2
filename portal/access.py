"""Who may use each endpoint. Every view declares it with one of these decorators; a test walks the URL map
and fails for any endpoint without a declaration."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.errors import wants_json
from portal.models.user import Role

PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view):
    view.access = PUBLIC
    return view


def roles(*allowed: Role):
    """Signed-in users whose role is one of `allowed`; anyone else gets the sign-in page or 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if allowed and current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = frozenset(allowed) or SIGNED_IN
        return wrapper

    return decorator


signed_in = roles()
