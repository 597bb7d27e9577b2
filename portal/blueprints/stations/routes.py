"""Rest stations: the finder (list and map), a station's page, its QR link and poster, and the pages where
station managers keep their own stations current.

Another manager's station answers 404, and the edit forms read only the field each one changes, so a posted
station or region id is never read (SECURITY #21).
"""

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal import clock
from portal.access import public, roles
from portal.blueprints.stations.forms import ClosureForm, FindForm, HoursForm, ImportForm, ManagerForm, ReportForm
from portal.exceptions import DomainError
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.htmx import redirect_after_post, render_page_or_partial
from portal.i18n import gettext as _
from portal.models import Role
from portal.services import qr, station_files, stations
from portal.widgets.region_picker import build_picker

bp = Blueprint("stations", __name__)
MANAGERS = (Role.STATION_MANAGER, Role.ADMIN)


@bp.get("/stations/")
@public
def index():
    form, picker, now = FindForm(request.args), build_picker(request.args), clock.now()
    origin = form.origin(picker.chosen)
    found = stations.nearby(origin.lat, origin.lng, now, radius_m=form.radius_m(), limit=50,
                            facilities=form.facilities(), open_now=bool(form.open.data)) if origin else None
    return render_page_or_partial("stations/index.html", "stations/_results.html", form=form, picker=picker,
                                  origin=origin, found=found, now=now, map_view=form.view.data == "map",
                                  tiles=current_app.config["MAP_TILE_URL"], opening_after=stations.opening_after,
                                  navigation_links=stations.navigation_links)


@bp.get("/stations/<int:station_id>")
@public
def detail(station_id: int):
    return _detail_page(stations.get(station_id), ReportForm())


def _detail_page(station, form, status: int = 200):
    """A station's page, with the visitor's report form (refused: filled in, the reason beside its field)."""
    return render_template("stations/detail.html", station=station, now=clock.now(), form=form,
                           change=stations.last_change(station), links=stations.navigation_links(station),
                           opening_after=stations.opening_after, day_runs=stations.day_runs), status


@bp.get("/s/<code>")
@public
def short(code: str):
    """The address a station's QR poster holds: stable for as long as the station exists."""
    return redirect(url_for("stations.detail", station_id=stations.by_code(code).id), code=301)


@bp.get("/stations/<int:station_id>/poster")
@public
def poster(station_id: int):
    """Two actions, each with its own code: the station's page, and "report a problem here" straight to the
    grievance form with the station's place filled in (issue 14, item 6)."""
    station = stations.get(station_id)
    link = url_for("stations.short", code=station.code, _external=True)
    report = url_for("grievances.index", code=station.code, _external=True)
    return render_template("stations/poster.html", station=station, link=link, svg=qr.svg(link),
                           report_link=report, report_svg=qr.svg(report))


@bp.post("/stations/<int:station_id>/report")
@public
@limiter.limit("10 per hour")
def report(station_id: int):
    form = ReportForm()
    if not form.validate_on_submit():
        return _detail_page(stations.get(station_id), form, 422)
    stations.report(station_id, form.correct.data == "yes", form.problem.data, clock.now())
    flash(_("Thank you. The station's manager will see what you said."), "success")
    return redirect_after_post(url_for("stations.detail", station_id=station_id))


# ------------------------------------------------------------------------------------ station managers

@bp.get("/stations/manage/")
@roles(*MANAGERS)
def manage():
    return render_template("stations/manage.html", mine=stations.managed_by(current_user))


@bp.get("/stations/<int:station_id>/edit")
@roles(*MANAGERS)
def edit(station_id: int):
    return render_template("stations/edit.html", **_edit_context(stations.for_manager(station_id, current_user)))


def _edit_context(station, hours: HoursForm | None = None, closure: ClosureForm | None = None) -> dict:
    """What the manager's page shows; a refused form comes back in place of its blank one."""
    return {"station": station, "hours": hours if hours is not None else HoursForm.for_station(station),
            "closure": closure if closure is not None else ClosureForm(), "form": ManagerForm(),
            "reports": stations.open_reports(station), "now": clock.now()}


def _save(station, form, change, done: str):
    """Apply a manager's form with `change`: back to the page with `done`, or None with the reason in the form."""
    if form.validate_on_submit():
        try:
            change()
        except DomainError as error:  # stations' findings are codes for machines: the manager reads the message
            form.show_error(error, findings=False)
        else:
            flash(done, "success")
            return redirect_after_post(url_for("stations.edit", station_id=station.id))
    return None


@bp.post("/stations/<int:station_id>/facilities/<code>")
@roles(*MANAGERS)
def facility(station_id: int, code: str):
    """One facility on or off, saved at once; the answer offers to undo it."""
    station, form = stations.for_manager(station_id, current_user), ManagerForm()
    if form.validate_on_submit():
        stations.set_facility(station, current_user, code, form.present.data == "on", clock.now())
    return render_page_or_partial("stations/edit.html", "stations/_facilities.html", changed=code,
                                  **_edit_context(station))


@bp.post("/stations/<int:station_id>/hours")
@roles(*MANAGERS)
@rerender_on_csrf_error
def hours(station_id: int):
    station, form = stations.for_manager(station_id, current_user), HoursForm()

    def change():
        stations.set_hours(station, current_user, form.weekly(), form.holiday_note.data, clock.now())

    saved = _save(station, form, change, _("Opening hours saved."))
    return saved or (render_template("stations/edit.html", **_edit_context(station, hours=form)), 422)


@bp.post("/stations/<int:station_id>/closure")
@roles(*MANAGERS)
@rerender_on_csrf_error
def closure(station_id: int):
    station, form = stations.for_manager(station_id, current_user), ClosureForm()

    def change():
        stations.set_closure(station, current_user, form.until_utc(), form.reason.data, clock.now())

    saved = _save(station, form, change, _("Saved."))
    return saved or (render_template("stations/edit.html", **_edit_context(station, closure=form)), 422)


@bp.post("/stations/<int:station_id>/confirm")
@roles(*MANAGERS)
def confirm(station_id: int):
    station, form = stations.for_manager(station_id, current_user), ManagerForm()
    if form.validate_on_submit():
        stations.confirm(station, current_user, clock.now())
        flash(_("Thank you: the station is marked as checked today."), "success")
    return redirect_after_post(url_for("stations.edit", station_id=station.id))


@bp.post("/stations/<int:station_id>/reports/<int:report_id>")
@roles(*MANAGERS)
def resolve(station_id: int, report_id: int):
    station, form = stations.for_manager(station_id, current_user), ManagerForm()
    if form.validate_on_submit():
        stations.resolve_report(station, current_user, report_id, clock.now())
    return redirect_after_post(url_for("stations.edit", station_id=station.id))


# --------------------------------------------------------------------------------- administrators' files

@bp.route("/stations/admin/", methods=["GET", "POST"])
@roles(Role.ADMIN)
@rerender_on_csrf_error
def admin():
    """Import a CSV or GeoJSON file (all or nothing, with a report per row), or export every station."""
    form, report = ImportForm(), None
    if form.validate_on_submit():
        try:
            report = station_files.import_rows(form.rows(), current_user, clock.now())
        except DomainError as error:
            form.show_error(error, at="file")
    refused = request.method == "POST" and (report is None or not report.ok)
    return render_template("stations/admin.html", form=form, report=report), 422 if refused else 200


@bp.get("/stations/admin/stations.csv")
@roles(Role.ADMIN)
def export_csv():
    return Response(station_files.export_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=stations.csv"})


@bp.get("/stations/admin/stations.geojson")
@roles(Role.ADMIN)
def export_geojson():
    response = jsonify(station_files.export_geojson())
    response.mimetype = "application/geo+json"
    response.headers["Content-Disposition"] = "attachment; filename=stations.geojson"
    return response
