"""The big screen: a jurisdiction's figures for union staff, the aggregate figures for everyone, and a CSV.

Live by polling, not server-sent events: gunicorn runs sync workers, and an event stream would hold a whole
worker for as long as a screen stays open. The page's live part asks every second with the version it shows;
the answer is 204 (two index reads, htmx keeps what it shows) until a ticket or a contact changed something,
then the new live part. A region outside the viewer's jurisdiction answers 404 (SECURITY #18); the public
screen shows only what `stats.public_figures` would (counts below 5 as "<5", SECURITY #22).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

import portal.blueprints.dashboard.charts as charts  # the module itself: the templates call its helpers
from portal import clock
from portal.access import public, roles
from portal.blueprints.dashboard.forms import ScreenForm
from portal.extensions import limiter
from portal.htmx import render_page_or_partial
from portal.models import Role
from portal.services import csvfile, regions, sla, stats

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
STAFF = (Role.STAFF, Role.ADMIN)
LIVE = "dashboard/_live.html"
PAGES = {False: "dashboard/index.html", True: "dashboard/public.html"}  # by "is it the public's?"


@bp.get("/")
@roles(*STAFF)
def index():
    return _screen(current_user)


@bp.get("/live")
@roles(*STAFF)
def live():
    return _screen(current_user, live=True)


@bp.get("/public", endpoint="public")
@public
def public_screen():
    return _screen(None)


@bp.get("/public/live", endpoint="public_live")
@public
@limiter.limit("120 per minute")
def public_live():
    return _screen(None, live=True)


@bp.get("/export.csv")
@roles(*STAFF)
def export_csv():
    """The figures of each day of the period and their total, as the screen counts them."""
    form = ScreenForm(request.args)
    region, period = stats.scope_of(current_user, form.region.data or ""), form.chosen(clock.now())
    name = f"dashboard-{region}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(csvfile.write(stats.rows_for_export(region, period)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _screen(viewer, live: bool = False):
    """The page, or for the poller only its live part (204 while nothing changed). A period that is not one
    gets the page back with the reason beside the dates, and 400 (the poller: the 400 alone)."""
    form, now, is_public = ScreenForm(request.args), clock.now(), viewer is None
    region = stats.scope_of(viewer, form.region.data or "")
    if live and request.args.get("v") == stats.version():
        return Response(status=204)
    page, context = PAGES[is_public], _context(form, region, viewer, now)
    period = form.chosen(now) if live else form.chosen_or_shown(now)
    if period is None:
        return render_template(page, board=None, **context), 400
    board, rates = stats.board_for(region, period, now, path=form.path.data or "", public=is_public)
    context |= {"board": board, "data": charts.chart_data(board, is_public), "rates": rates}
    if live:
        return render_template(LIVE, fragment=True, **context)
    return render_page_or_partial(page, LIVE, **context)


def _context(form: ScreenForm, region: str, viewer, now) -> dict:
    """What both screens draw around the figures: the place, the regions above it that the viewer may open,
    and the endpoints their links go to."""
    is_public = viewer is None
    return {
        "form": form, "public": is_public, "place": regions.place(region), "own": stats.scope_of(viewer),
        "trail": stats.trail(region),
        "screen": "dashboard.public" if is_public else "dashboard.index",
        "poll": "dashboard.public_live" if is_public else "dashboard.live",
        "updated": now.astimezone(sla.SHANGHAI).strftime("%H:%M:%S"), "today": sla.local_date(now).isoformat(),
        "charts": charts,
    }
