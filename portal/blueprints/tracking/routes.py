"""Following a request: look it up with its number and query code, read the timeline, add information,
withdraw it, rate the answer. The code is only ever posted; the session then remembers which tickets
this browser may see, so the page can refresh itself without the code in any URL."""

from flask import Blueprint, current_app, flash, render_template, session, url_for
from flask_login import current_user

from portal import clock
from portal.access import public
from portal.blueprints.tracking.forms import LookupForm, MessageForm, RatingForm, WithdrawForm
from portal.exceptions import DomainError, NotFound
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post, render_page_or_partial
from portal.i18n import gettext as _
from portal.models import Role, Ticket
from portal.services import tickets

bp = Blueprint("tracking", __name__)
GRANTS = "tracking"  # session key: ids of the tickets this browser proved it may follow
MAX_GRANTS = 20


@bp.after_request
def _never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_member() -> bool:
    return current_user.is_authenticated and current_user.role is Role.MEMBER


def _own_ticket(number: str) -> Ticket:
    """This browser's ticket (looked up with its code, or the signed-in member's own), or 404."""
    ticket = tickets.get_by_number(number)
    if ticket.id not in session.get(GRANTS, []) and not (_is_member() and ticket.member_id == current_user.id):
        raise NotFound()
    return ticket


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
            form.form_errors.append(str(error.message))
            status = 404
        else:
            session[GRANTS] = [ticket.id, *session.get(GRANTS, [])][:MAX_GRANTS]
            return redirect_after_post(url_for("tracking.detail", number=ticket.number))
    mine = tickets.for_member(current_user.id) if _is_member() else []
    return render_template("tracking/index.html", form=form, mine=mine), status


def _detail(ticket: Ticket, status: int = 200, **forms):
    forms = {"message_form": MessageForm(), "rating_form": RatingForm(), "withdraw_form": WithdrawForm()} | forms
    return render_page_or_partial("tracking/detail.html", "tracking/_timeline.html", status=status, ticket=ticket,
                                  timeline=tickets.worker_timeline(ticket), now=clock.now(), **forms)


@bp.get("/track/<number>")
@public
def detail(number: str):
    """The page, or (polled by htmx every few seconds) just its status and timeline."""
    return _detail(_own_ticket(number))


def _act(number: str, form, action, done: str, form_name: str):
    """Run one worker action on this browser's ticket; problems come back on the page beside the form."""
    ticket, status = _own_ticket(number), 422
    if form.validate_on_submit():
        try:
            action(ticket)
        except DomainError as error:  # bad input, or a step no longer possible (409) whose form is gone
            for message in [str(v) for v in error.fields.values()] or [str(error.message)]:
                flash(message, "error")
            status = error.status
        else:
            flash(done, "success")
            return redirect_after_post(url_for("tracking.detail", number=number))
    return _detail(ticket, status, **{form_name: form})


@bp.post("/track/<number>/messages")
@public
@rerender_on_csrf_error
def add_message(number: str):
    form = MessageForm()
    return _act(number, form, lambda t: tickets.add_information(t, form.text.data, clock.now(), form.uploads()),
                _("Your information was added."), "message_form")


@bp.post("/track/<number>/withdraw")
@public
@rerender_on_csrf_error
def withdraw(number: str):
    form = WithdrawForm()
    return _act(number, form, lambda t: tickets.withdraw(t, form.reason.data or "", clock.now()),
                _("Your request was withdrawn."), "withdraw_form")


@bp.post("/track/<number>/rating")
@public
@rerender_on_csrf_error
def rate(number: str):
    form = RatingForm()
    return _act(number, form, lambda t: tickets.rate(t, form.rating.data, form.comment.data or "", clock.now()),
                _("Thank you for your rating."), "rating_form")
