"""Find a union: the city → district → town picker, as a page and as an htmx fragment."""

from flask import Blueprint, request

from portal.access import public
from portal.htmx import render_page_or_partial
from portal.widgets.region_picker import build_picker

bp = Blueprint("regions", __name__)


@bp.get("/unions")
@public
def picker():
    return render_page_or_partial("regions/picker.html", "regions/_picker.html", picker=build_picker(request.args))
