"""Worker grievances: how to reach the union."""

from flask import Blueprint, render_template

from portal.access import public
from portal.vocabulary import REQUEST_KINDS

bp = Blueprint("grievances", __name__)


@bp.get("/grievances/")
@public
def index():
    return render_template("grievances/index.html", kinds=REQUEST_KINDS)
