"""Administrators' outbox: how many messages wait, the dead-letter list with each reason (and sending one again once
the cause is fixed), and with the development provider, what would have been sent."""

from flask import Blueprint, abort, current_app, flash, render_template, url_for

from portal import clock
from portal.access import roles
from portal.forms import Form, rerender_on_csrf_error
from portal.htmx import redirect_after_post
from portal.i18n import gettext as _
from portal.models import Role
from portal.services.messages import outbox
from portal.services.messages.providers import development

bp = Blueprint("messages", __name__)


@bp.after_request
def _never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/messages")
@roles(Role.ADMIN)
def outbox_page():
    dev = current_app.config["SMS_PROVIDER"] == "development"
    return render_template("messages/outbox.html", lengths=outbox.queue_lengths(), dead=outbox.dead_letters(),
                           provider=current_app.config["SMS_PROVIDER"], sent=development.recent() if dev else [],
                           form=Form())


@bp.post("/admin/messages/<int:message_id>/send-again")
@roles(Role.ADMIN)
@rerender_on_csrf_error
def send_again(message_id: int):
    if not Form().validate_on_submit():
        return outbox_page(), 400
    if not outbox.send_again(message_id, clock.now()):
        abort(404)
    flash(_("The message is queued again."), "success")
    return redirect_after_post(url_for("messages.outbox_page"))
