"""Rest stations for outdoor workers."""

from flask import render_template

from portal.access import public
from portal.blueprints.stations import bp


@bp.get("/stations/")
@public
def index():
    return render_template("stations/index.html")
