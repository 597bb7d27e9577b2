"""Following a request's progress."""

from flask import render_template

from portal.access import public
from portal.blueprints.tracking import bp


@bp.get("/track/")
@public
def index():
    return render_template("tracking/index.html")
