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

    def __init__(self, message=None, *, used_at=None, **kwargs):
        super().__init__(message, **kwargs)
        self.used_at = used_at  # when it was used (UTC), for a caller that shows it its own way


class NotRedeemable(DomainError):
    """A voucher or card that exists but cannot be used here or now: expired, another merchant's, not valid yet."""

    status = 422
    message = _l("This cannot be used here.")


class DatabaseUnavailable(Exception):
    """The database cannot take the request now: its write lock stayed busy past the bound, the disk is full, or
    PostgreSQL is restarting or refuses connections. Raised by portal.database for the driver's error; nothing was
    written (the transaction is rolled back), so the same request can be sent again.

    Not a DomainError: a fault is no refusal of the request, so a view that shows a service's refusal on its form
    (`except DomainError`) lets it pass to the one handler, which answers 503 with Retry-After and gives the form
    back filled in."""

    status = 503
    message = _l("The service is busy for a moment, and your request was not recorded. Nothing is lost: "
                 "please send it again in a minute.")
    fields: dict[str, str] = {}

    def __init__(self, reason: str = ""):
        super().__init__(reason or "database unavailable")
        self.reason = reason  # for the log: the driver's words, never shown to the user


class TooManyAttempts(DomainError):
    """Asked too often (codes for one number, wrong codes typed): 429, with how long to wait in seconds, which the
    view sends as Retry-After."""

    status = 429
    message = _l("Too many attempts. Please wait a little and try again.")

    def __init__(self, message=None, *, retry_after: int = 60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
