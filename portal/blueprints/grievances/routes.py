"""Workers' grievances: the form (also opened from QR posters), the receipt, and category suggestions."""

from flask import Blueprint, current_app, render_template, request, session
from flask_login import current_user

from portal import clock
from portal.access import public
from portal.blueprints.grievances.forms import GrievanceForm
from portal.exceptions import NotFound
from portal.extensions import limiter
from portal.forms import rerender_on_csrf_error
from portal.models import Station
from portal.services import messages, regions, stations, text
from portal.widgets import followed
from portal.widgets.followed import TextsForm
from portal.widgets.region_picker import build_picker, choices_for

bp = Blueprint("grievances", __name__)


def _submitted(response) -> bool:
    return response.status_code == 200 and request.method == "POST" and "refresh_place" not in request.form


@bp.route("/grievances/", methods=["GET", "POST"])
@bp.route("/g/<code>", methods=["GET", "POST"])
@public
@rerender_on_csrf_error
@limiter.limit(lambda: current_app.config["SUBMIT_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_submitted)
def index(code: str | None = None):
    place, station = _poster(code)
    form = GrievanceForm()
    form.via.data = code if place else ""  # the address scanned says where the form came from, not a posted field
    picker = build_picker(request.form if request.method == "POST" else choices_for(place))
    member_id = current_user.id if current_user.is_authenticated else None
    if "refresh_place" not in request.form and form.validate_on_submit():
        receipt = form.try_submit(picker.chosen.code if picker.chosen else None, member_id, clock.now(), session)
        if receipt is not None:
            followed.grant(receipt.ticket.id)  # the browser that sent it may follow it, and ask for texts
            return render_template("grievances/receipt.html", receipt=receipt, texts=messages.enabled(),
                                   texts_form=TextsForm())
    status = 422 if request.method == "POST" and "refresh_place" not in request.form else 200
    return render_template("grievances/index.html", form=form, picker=picker, station=station,
                           unknown_poster=code is not None and place is None), status


def _poster(code: str | None) -> tuple[str | None, Station | None]:
    """The place a QR poster stands for and its rest station: a district or town code (a workplace's poster),
    or a station's code (its town). A code no poster holds (a station since removed, a mistyped address) gives
    (None, None): the worker who scanned it still gets the form, with the place left to choose."""
    if code is None or regions.is_place_code(code):
        return code, None
    try:
        station = stations.by_code(code)
    except NotFound:
        return None, None
    return (station.region_code, station) if regions.is_place_code(station.region_code) else (None, None)


@bp.post("/grievances/suggest")
@public
@limiter.limit("60 per minute")
def suggest():
    """While the worker types (htmx only): a category the text seems to be about, offered, never applied."""
    category = text.suggest_category(request.form.get("description", ""))
    return render_template("grievances/_suggestion.html", category=category)
