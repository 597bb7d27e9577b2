"""Worker grievances: how to reach the union."""

from flask import render_template

from portal.access import public
from portal.blueprints.grievances import bp
from portal.vocabulary import REQUEST_KINDS


@bp.get("/grievances/")
@public
def index():
    return render_template("grievances/index.html", kinds=REQUEST_KINDS)
