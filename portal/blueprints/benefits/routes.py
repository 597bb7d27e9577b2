"""Administrators' side of member benefits: the roster, sign-ups to decide, campaigns, and the totals."""

from flask import Blueprint, Response, flash, render_template, request, url_for
from flask_login import current_user

from portal import clock
from portal.access import roles
from portal.blueprints.benefits.forms import ROSTER_MAX_BYTES, ActionForm, CampaignForm, DecideForm, RosterForm
from portal.exceptions import DomainError
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post
from portal.i18n import gettext as _
from portal.models import Role
from portal.services import benefits, members
from portal.services.sla import local_date

bp = Blueprint("benefits", __name__, url_prefix="/benefits/admin")


@bp.get("/")
@roles(Role.ADMIN)
def index():
    """Each campaign's stock, budget and spending, each merchant's redemptions, and what waits for a decision."""
    return render_template("benefits/index.html", campaigns=benefits.campaign_totals(),
                           merchants=benefits.merchant_totals(), pending=len(members.pending()), form=ActionForm(),
                           now=clock.now())


@bp.get("/totals.csv")
@roles(Role.ADMIN)
def totals_csv():
    name = f"benefits-totals-{local_date(clock.now()):%Y%m%d}.csv"
    return Response(benefits.totals_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/roster", methods=["GET", "POST"])
@roles(Role.ADMIN)
@rerender_on_csrf_error
def roster():
    """Import the union's roster: all or nothing, with the problem of each refused row."""
    form, report = RosterForm(), None
    if form.validate_on_submit():
        try:
            report = members.import_roster(form.rows(), current_user, clock.now())
        except DomainError as error:
            form.show_error(error, at="file")
    refused = request.method == "POST" and (report is None or not report.ok)
    return render_template("benefits/roster.html", form=form, report=report, occupations=members.OCCUPATIONS,
                           max_rows=members.ROSTER_MAX_ROWS, max_mb=ROSTER_MAX_BYTES // (1024 * 1024)), \
        400 if refused else 200


@bp.get("/members")
@roles(Role.ADMIN)
def pending():
    return _pending_page()


def _pending_page(failed: tuple[int, DecideForm] | None = None, status: int = 200):
    """Every sign-up waiting, each with its own form; a refused one comes back with what was chosen."""
    waiting = members.pending()
    forms = {m.id: failed[1] if failed and failed[0] == m.id else DecideForm(formdata=None, row=m.id)
             for m in waiting}
    return render_template("benefits/members.html", waiting=waiting, forms=forms, failed=failed), status


@bp.post("/members/<int:membership_id>/decide")
@roles(Role.ADMIN)
@rerender_on_csrf_error
def decide(membership_id: int):
    membership, form = members.get(membership_id), DecideForm(row=membership_id)
    if form.validate_on_submit() and form.decide(membership.id, current_user, clock.now()):
        done = _("%(name)s (%(number)s) is now a member.") if form.decision.data == "approve" else \
            _("The sign-up of %(name)s (%(number)s) was rejected.")
        flash(done % {"name": membership.name, "number": membership.number}, "success")
        return redirect_after_post(url_for("benefits.pending"))
    return _pending_page((membership_id, form), 400)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
@rerender_on_csrf_error
def new_campaign():
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = benefits.create_campaign(form.campaign_data(), clock.now(), current_user)
        except DomainError as error:
            form.show(error)
        else:
            flash(_("Campaign %(name)s created.", name=campaign.name), "success")
            return redirect_after_post(url_for("benefits.index"))
    return render_template("benefits/campaign.html", form=form), 400 if form.is_submitted() else 200


@bp.post("/campaigns/<int:campaign_id>/stop")
@roles(Role.ADMIN)
def stop(campaign_id: int):
    """No more claims or redemptions; vouchers already claimed can no longer be used."""
    if ActionForm().validate_on_submit():
        benefits.stop_campaign(campaign_id, current_user, clock.now())
        flash(_("The campaign is stopped."), "success")
    return redirect_after_post(url_for("benefits.index"))
