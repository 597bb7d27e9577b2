"""Following a request's progress."""

from flask import Blueprint, render_template

from portal.access import public

bp = Blueprint("tracking", __name__)


@bp.get("/track/")
@public
def index():
    return render_template("tracking/index.html")
