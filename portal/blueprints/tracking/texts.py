"""Text messages about a request, seen from the worker's side: asking for them (a code confirms the number),
stopping them, the links the messages carry (tracking, one-tap rating, stop), and "send my number again"."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale

from portal import clock
from portal.access import public
from portal.blueprints.tracking.forms import CodeForm, LostForm, StopForm
from portal.blueprints.tracking.routes import bp, own_ticket
from portal.exceptions import DomainError, TooManyAttempts
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post
from portal.i18n import gettext as _
from portal.services import messages, tickets
from portal.widgets import followed
from portal.widgets.followed import TextsForm


def _locale() -> str:
    return messages.texts.locale_of(str(get_locale()))


def _require_texts() -> None:
    if not messages.enabled():
        abort(404)


def _texts_page(number: str, status: int = 200, texts_form=None, code_form=None, retry_after: int | None = None,
                refused=None):
    """The page; a refused form comes back as it was sent, and what was refused is also said above everything
    (after too many wrong codes, the code's form is gone)."""
    ticket = own_ticket(number)
    page = render_template("tracking/texts.html", ticket=ticket, state=messages.subscriptions.state(ticket.id,
                                                                                                    clock.now()),
                           texts_form=texts_form or TextsForm(), code_form=code_form or CodeForm(),
                           stop_form=StopForm(), refused=refused)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return page, status, headers


def _refused(error: DomainError, form, number: str, which: str):
    form.show_error(error)
    retry = error.retry_after if isinstance(error, TooManyAttempts) else None
    status = 422 if error.status == 400 else error.status  # a refused value: the form comes back, as elsewhere
    return _texts_page(number, status, **{which: form}, retry_after=retry, refused=form)


@bp.route("/track/<number>/texts", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(lambda: current_app.config["OPT_IN_LIMIT_PER_ADDRESS"], methods=["POST"])
def texts(number: str):
    """Ask for text messages: the number typed here gets a six-digit code, which the same page then asks for."""
    _require_texts()
    form = TextsForm()
    if not form.is_submitted():
        return _texts_page(number)
    ticket = own_ticket(number)
    if not form.validate_on_submit():
        return _texts_page(number, 422, texts_form=form)
    try:
        messages.subscriptions.ask_code(ticket, form.phone.data, _locale(), clock.now())
    except DomainError as error:
        return _refused(error, form, number, "texts_form")
    return redirect_after_post(url_for("tracking.texts", number=number, _anchor="code"))


@bp.post("/track/<number>/texts/confirm")
@public
@rerender_on_csrf_error
def confirm_texts(number: str):
    _require_texts()
    ticket, form = own_ticket(number), CodeForm()
    if not form.validate_on_submit():
        return _texts_page(number, 422, code_form=form)
    try:
        messages.subscriptions.confirm(ticket, form.code.data, clock.now())
    except DomainError as error:
        return _refused(error, form, number, "code_form")
    flash(_("Text messages are on: we will tell you when there is news."), "success")
    return redirect_after_post(url_for("tracking.detail", number=number))


@bp.post("/track/<number>/texts/stop")
@public
@rerender_on_csrf_error
def stop_texts(number: str):
    ticket, form = own_ticket(number), StopForm()
    if not form.validate_on_submit():
        return _texts_page(number, 422)
    messages.subscriptions.stop(ticket.id)
    flash(_("No more text messages about this request. Your number was deleted."), "success")
    return redirect_after_post(url_for("tracking.detail", number=number))


@bp.get("/m/<token>")
@public
def from_message(token: str):
    """A message's link: this browser may now follow the ticket (no code to type); the answered message's link
    opens the rating."""
    ticket, purpose = messages.from_link(token, clock.now())
    followed.grant(ticket.id)
    if purpose == "rate" and "rate" in tickets.worker_actions(ticket, clock.now()):
        return redirect(url_for("tracking.rating_page", number=ticket.number), 303)
    return redirect(url_for("tracking.detail", number=ticket.number), 303)


@bp.route("/m/<token>/stop", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
def stop_from_message(token: str):
    """The stop link of every message: one tap on the page it opens (a GET never changes anything)."""
    ticket, _purpose = messages.from_link(token, clock.now())
    followed.grant(ticket.id)  # the same link opens the request
    form, stopped = StopForm(), False
    if form.validate_on_submit():
        messages.subscriptions.stop(ticket.id)
        stopped = True
    return render_template("tracking/stop.html", ticket=ticket, form=form, token=token, stopped=stopped,
                           on=messages.subscriptions.state(ticket.id, clock.now()).on)


@bp.route("/track/lost", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(lambda: current_app.config["LOST_CODE_LIMIT_PER_ADDRESS"], methods=["POST"])
def lost():
    """The ticket number and a link sent again to the number the worker gave; the answer is the same whether or not
    any request knows the number."""
    _require_texts()
    form, sent = LostForm(), False
    if form.validate_on_submit():
        try:
            messages.subscriptions.resend(form.phone.data, _locale(), clock.now())
            sent = True
        except DomainError as error:
            form.show_error(error)
    status = 422 if form.is_submitted() and not sent else 200
    return render_template("tracking/lost.html", form=form, sent=sent), status
