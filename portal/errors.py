"""The one place that turns every error into a page or a JSON body.

Services raise portal.exceptions; HTML routes get a bilingual error page, /api/ a JSON object and
/open311/ the GeoReport v2 error array. No response ever carries a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.exceptions import DatabaseUnavailable, DomainError
from portal.extensions import db
from portal.forms import CSRF_EXPIRED, refuse_forms
from portal.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)


# Title and explanation for each status the portal answers with; the page shows both languages' text
# through the catalogue.
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    401: (_l("Please sign in"), _l("You need to sign in to see this page.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("We could not find that page. The link may be old or mistyped.")),
    405: (_l("Not allowed here"), _l("This address does not accept that kind of request.")),
    409: (_l("Already done"), _l("This was already done.")),
    413: (_l("Too large"), _l("What you sent is too large. Please send smaller files.")),
    415: (_l("Unsupported format"), _l("Please send the data as JSON.")),
    422: (_l("Cannot process"), _l("Some of the information given is not valid.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. Please try again later.")),
    503: (_l("Service unavailable"), _l("The service is busy or under maintenance. Please try again later.")),
}


CSRF_MESSAGE = _l("The page had expired for your safety. Please go back, reload the page and try again.")
UNAVAILABLE_FORM_MESSAGE = _l("Your request was not recorded: the service is busy for a moment. Everything you typed "
                              "is still here: please send it again in a minute.")


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def error_response(status: int, message: str | None = None, fields: dict | None = None, headers=None):
    title, default = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    text = str(message or default)
    if request.path.startswith("/open311/"):
        body = [{"code": status, "description": text}]
        body += [{"code": status, "description": f"{k}: {v}"} for k, v in (fields or {}).items()]
        response = jsonify(body)
    elif wants_json():
        error = {"status": status, "message": text, "request_id": g.get("request_id")}
        if fields:
            error["fields"] = {k: str(v) for k, v in fields.items()}
        response = jsonify({"error": error})
    elif request_ctx.url_adapter is None:
        # No URL map for this request (its Host is not trusted): a page without links, in both languages.
        response = make_response(render_template("errors/bare.html", status=status))
    else:
        page = render_template("errors/error.html", status=status, title=title, message=text)
        response = make_response(page)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return error_response(error.status, error.message, error.fields)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        log.info("csrf rejected request_id=%s endpoint=%s reason=%s", g.get("request_id"), request.endpoint,
                 error.description)
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "rerender_on_csrf_error", False) and not wants_json():
            refuse_forms(CSRF_EXPIRED)  # portal.forms.Form then refuses to validate
            try:
                response = make_response(app.ensure_sync(view)(**(request.view_args or {})))
            except (HTTPException, DomainError):
                # The view refused anyway (e.g. a ticket that is not this browser's): the CSRF answer stands.
                return error_response(400, CSRF_MESSAGE)
            except DatabaseUnavailable as fault:
                return _unavailable_page(fault)
            response.status_code = 400
            return response
        return error_response(400, CSRF_MESSAGE)

    def _unavailable_page(fault: DatabaseUnavailable):
        db.session.rollback()
        return _retry_after(error_response(fault.status, fault.message))

    def _retry_after(response):
        g.retry_after = str(int(app.config["RETRY_AFTER_S"]))
        response.headers["Retry-After"] = g.retry_after
        return response

    def _keep_retry_after(response):
        """Flask-Limiter rewrites Retry-After on a limited route to its window's reset (up to an hour away): a 503
        keeps the fault's own. Registered first, so it runs after every other after_request function."""
        if g.get("retry_after") is not None:
            response.headers["Retry-After"] = g.retry_after
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, _keep_retry_after)

    @app.errorhandler(DatabaseUnavailable)
    def _unavailable(fault: DatabaseUnavailable):
        """503 with Retry-After. Nothing was written (the transaction is rolled back); a form view marked
        @rerender_on_csrf_error runs again with its forms refusing, so the worker gets the form back filled in,
        with its one-time token, and sends it again safely. The plain page when that cannot be drawn either."""
        db.session.rollback()
        log.warning("database unavailable request_id=%s endpoint=%s reason=%s", g.get("request_id"),
                    request.endpoint, fault.reason)
        view = app.view_functions.get(request.endpoint)
        if request.method == "POST" and getattr(view, "rerender_on_csrf_error", False) and not wants_json():
            refuse_forms(UNAVAILABLE_FORM_MESSAGE)
            try:
                response = make_response(app.ensure_sync(view)(**(request.view_args or {})))
            except Exception:  # noqa: BLE001 — the database is down for reads too, or the view refused: the page
                db.session.rollback()
                log.info("form not redrawn request_id=%s", g.get("request_id"), exc_info=True)
            else:
                if not 300 <= response.status_code < 400:
                    response.status_code = fault.status
                    return _retry_after(response)
        return _unavailable_page(fault)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        # Werkzeug's descriptions are English-only and technical; show our own, translated text.
        return error_response(error.code or 500, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error request_id=%s path=%s", g.get("request_id"), request.path)
        return error_response(500)
