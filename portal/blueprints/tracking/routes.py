"""Following a request: look it up with its number and query code, read the timeline, add information,
withdraw it, rate the answer. The code is only ever posted; the session then remembers which tickets
this browser may see, so the page can refresh itself without the code in any URL."""

from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import clock
from portal.access import public
from portal.blueprints.tracking.forms import ACTION_FORMS, LookupForm, MessageForm, RatingForm, WithdrawForm
from portal.exceptions import DomainError, NotFound
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post, render_page_or_partial
from portal.i18n import day
from portal.i18n import gettext as _
from portal.models import Role, Ticket
from portal.services import messages, tickets
from portal.widgets import followed

bp = Blueprint("tracking", __name__)


@bp.after_request
def _never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_member() -> bool:
    return current_user.is_authenticated and current_user.role is Role.MEMBER


def own_ticket(number: str) -> Ticket:
    """This browser's ticket (looked up with its code, or the signed-in member's own), or 404."""
    return tickets.get_for_worker(number, followed.granted(), current_user.id if _is_member() else None)


def _failed_lookup(response) -> bool:
    return response.status_code == 404


@bp.route("/track/", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(lambda: current_app.config["LOOKUP_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed_lookup)
def index():
    form = LookupForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            ticket = tickets.find_by_code(form.number.data, form.code.data)
        except NotFound as error:
            form.show_error(error)
            status = 404
        else:
            followed.grant(ticket.id)
            return redirect_after_post(url_for("tracking.detail", number=ticket.number))
    mine = tickets.for_member(current_user.id) if _is_member() else []
    return render_template("tracking/index.html", form=form, mine=mine, texts_enabled=messages.enabled()), status


def _detail(ticket: Ticket, status: int = 200, failed=None, refused: bool = False):
    """The page with a form for each action the worker can take now; a form that failed comes back as it was
    sent, and what the service refused is also said above everything (its form may be gone by now)."""
    forms = {name: form_class() for name, form_class in ACTION_FORMS.values()}
    if failed is not None:
        forms[ACTION_FORMS[failed.action][0]] = failed
    now = clock.now()
    return render_page_or_partial("tracking/detail.html", "tracking/_timeline.html", status=status, ticket=ticket,
                                  timeline=tickets.worker_timeline(ticket), now=now,
                                  allowed=tickets.worker_actions(ticket, now), refused=failed if refused else None,
                                  pending=tickets.promise_pending(ticket, now),
                                  writing=tickets.what_writing_does(ticket), **forms,
                                  texts_of=partial(messages.subscriptions.state, ticket.id, now)
                                  if messages.enabled() else None)


@bp.get("/track/<number>")
@public
def detail(number: str):
    """The page, or (polled by htmx every few seconds) just its status and timeline."""
    return _detail(own_ticket(number))


def _outcome(action: str, writing: str, ticket: Ticket, now) -> str | None:
    """What the worker is told when the step did more than its form says (tickets.what_writing_does)."""
    if action == "add_information" and ticket.follow_up is not None:  # only just: a request continues once
        return _("What you wrote started a new request, number %(number)s. Your query code stays the same.",
                 number=ticket.follow_up.number)
    if action == "add_information" and writing == "reopens" and ticket.is_open:
        return _("Your information was added, and your request is handled again.")
    if action == "rate" and tickets.promise_pending(ticket, now):
        return _("Thank you for your rating. Your request stays open until %(day)s, in case the promise is not "
                 "kept.", day=day(ticket.promised_by, "long"))
    return None


def _act(number: str, form, done: str):
    """Run the form's action on this browser's ticket; problems come back on the page, on the form. A message
    that started a new linked request lands on that request, which this browser may then follow too."""
    ticket, now = own_ticket(number), clock.now()
    if not form.validate_on_submit():
        return _detail(ticket, 422, form)
    writing = tickets.what_writing_does(ticket)
    try:
        ticket = tickets.take(form.action, ticket, None, now, **form.inputs())
    except DomainError as error:  # bad input, or a step no longer possible (409)
        form.show_error(error)
        return _detail(ticket, error.status, form, refused=True)
    flash(_outcome(form.action, writing, ticket, now) or done, "success")
    if form.action == "add_information" and ticket.follow_up is not None:
        followed.grant(ticket.follow_up.id)
        ticket = ticket.follow_up
    return redirect_after_post(url_for("tracking.detail", number=ticket.number))


@bp.post("/track/<number>/messages")
@public
@rerender_on_csrf_error
def add_message(number: str):
    return _act(number, MessageForm(), _("Your information was added."))


@bp.post("/track/<number>/withdraw")
@public
@rerender_on_csrf_error
def withdraw(number: str):
    return _act(number, WithdrawForm(), _("Your request was withdrawn."))


@bp.get("/track/<number>/rating")
@public
def rating_page(number: str):
    """The one-tap rating the answered message links to: the answer, then one button per rating."""
    ticket = own_ticket(number)
    if "rate" not in tickets.worker_actions(ticket, clock.now()):
        return redirect(url_for("tracking.detail", number=number), 303)
    answer = next((e for e in reversed(ticket.events) if e.action == "replied"), None)
    return render_template("tracking/rating.html", ticket=ticket, answer=answer, form=RatingForm(),
                           pending=tickets.promise_pending(ticket, clock.now()))


@bp.post("/track/<number>/rating")
@public
@rerender_on_csrf_error
def rate(number: str):
    return _act(number, RatingForm(), _("Thank you for your rating."))
