"""The union staff workbench: the inbox of their jurisdiction, a ticket's page and its actions, evidence.

Another jurisdiction's ticket, file or history answers 404, never 403: its existence is not revealed.
"""

from flask import Blueprint, abort, current_app, flash, render_template, request, send_file, url_for
from flask_login import current_user

from portal import clock, vocabulary
from portal.access import roles
from portal.blueprints.staff.forms import ActionForm, InboxFilters, LedgerForm
from portal.exceptions import DomainError
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post, render_page_or_partial
from portal.i18n import gettext as _
from portal.models import Role, Ticket
from portal.services import evidence, ledger, messages, regions, supervision, tickets
from portal.widgets.region_picker import build_picker

bp = Blueprint("staff", __name__)

# After these the case has left this union's hands: back to the inbox.
LEAVES = {"return_up", "report_up"}


@bp.get("/staff/")
@roles(Role.STAFF, Role.ADMIN)
def index():
    region = regions.place(current_user.region_code or current_app.config["ROOT_REGION"])
    filters = InboxFilters(request.args)
    page = tickets.inbox(current_user, filters.query(), clock.now())
    return render_page_or_partial("staff/index.html", "staff/_inbox.html", region=region, filters=filters,
                                  inbox=page, path=regions.ancestry(region.code), below=regions.children(region.code),
                                  notices=supervision.for_union(current_user), now=clock.now())


def _ticket_page(ticket: Ticket, status: int = 200, failed: tuple[str, ActionForm] | None = None):
    """The ticket with its actions; what was typed into a refused action comes back in that action's form."""
    drafts, now = {"reply": str(vocabulary.REPLY_TEMPLATES[ticket.kind])}, clock.now()
    if failed:
        drafts[failed[0]] = failed[1].note.data or ""
    return render_template("staff/ticket.html", ticket=ticket, drafts=drafts, form=failed[1] if failed else None,
                           failed=failed[0] if failed else None,
                           now=now, children=regions.children(ticket.handler_code),
                           towards=regions.child_towards(ticket.handler_code, ticket.place_code),
                           actions=tickets.staff_actions(ticket, current_user, now),
                           promise_pending=tickets.promise_pending(ticket, now),
                           promise_window=tickets.promise_window(now),
                           texts_on=messages.subscriptions.is_on(ticket.id)), status


@bp.get("/staff/tickets/<int:ticket_id>")
@roles(Role.STAFF, Role.ADMIN)
def ticket(ticket_id: int):
    return _ticket_page(tickets.get_for_staff(ticket_id, current_user))


@bp.post("/staff/tickets/<int:ticket_id>/<action>")
@roles(Role.STAFF)
def act(ticket_id: int, action: str):
    """One action of the registry (tickets.ACTIONS); the service checks who acts and every input."""
    found, form = tickets.get_for_staff(ticket_id, current_user), ActionForm()
    if action not in tickets.STAFF_ACTIONS:
        abort(404)
    if not form.validate_on_submit():
        return _ticket_page(found, 422, (action, form))
    try:
        tickets.take(action, found, current_user, clock.now(), **form.inputs(action))
    except DomainError as error:
        form.show_error(error)
        return _ticket_page(found, error.status, (action, form))
    flash(_("Done."), "success")
    return redirect_after_post(url_for("staff.index") if action in LEAVES else url_for("staff.ticket",
                                                                                       ticket_id=ticket_id))


@bp.route("/staff/ledger", methods=["GET", "POST"])
@roles(Role.STAFF)
@rerender_on_csrf_error
def ledger_page():
    """Log a call, visit or letter; one that needs handling becomes a ticket whose code is read out."""
    form, picker = LedgerForm(), build_picker(request.form)
    if "refresh_place" not in request.form and form.validate_on_submit():
        try:
            logged = ledger.log(current_user, form.contact(picker.chosen.code if picker.chosen else ""),
                                form.record_key(), clock.now())
        except DomainError as error:
            form.show_error(error)
        else:
            return render_template("staff/ledger_done.html", logged=logged)
    status = 422 if form.is_submitted() and "refresh_place" not in request.form else 200
    return render_template("staff/ledger.html", form=form, picker=picker, entries=ledger.recent(current_user)), status


@bp.get("/staff/tickets/<int:ticket_id>/files/<int:file_id>")
@roles(Role.STAFF, Role.ADMIN)
def attachment(ticket_id: int, file_id: int):
    """Always a download, in a sandbox, never rendered by the browser as a page of the portal."""
    item = tickets.attachment_for_staff(ticket_id, file_id, current_user)
    response = send_file(evidence.path_of(item.stored_name), mimetype=item.content_type, as_attachment=True,
                         download_name=item.original_name, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
