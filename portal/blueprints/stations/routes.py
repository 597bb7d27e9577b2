"""Rest stations for outdoor workers."""

from flask import Blueprint, render_template

from portal.access import public

bp = Blueprint("stations", __name__)


@bp.get("/stations/")
@public
def index():
    return render_template("stations/index.html")
