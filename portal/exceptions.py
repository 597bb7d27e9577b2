"""The domain's exceptions: plain Python, free of Flask and Werkzeug, so services raise them without knowing
about HTTP. Each carries the status it maps to and a message kept lazy (translated when shown); portal.errors
turns them into pages, JSON and the Open311 error array."""

from __future__ import annotations

from portal.i18n import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    message = _l("The request could not be completed.")

    def __init__(self, message=None, *, fields: dict[str, str] | None = None):
        super().__init__(message or self.message)  # kept lazy: translated when shown, not when raised
        if message is not None:
            self.message = message
        self.fields = fields or {}


class InvalidInput(DomainError):
    status = 400
    message = _l("Some of the information given is not valid.")


class AuthenticationFailed(DomainError):
    status = 401
    message = _l("The mobile number or password is wrong.")


class PermissionDenied(DomainError):
    status = 403
    message = _l("You do not have permission to do this.")


class NotFound(DomainError):
    status = 404
    message = _l("We could not find that page.")


class InvalidTransition(DomainError):
    status = 409
    message = _l("This step is not possible for the case in its current state.")


class Conflict(DomainError):
    """The request is sound but the state forbids it now: sold out, a limit reached, already undone."""

    status = 409
    message = _l("This cannot be done now.")


class AlreadyRedeemed(Conflict):
    message = _l("This voucher has already been used.")


class NotRedeemable(DomainError):
    """A voucher or card that exists but cannot be used here or now: expired, another merchant's, not valid yet."""

    status = 422
    message = _l("This cannot be used here.")
