"""Union membership and its benefits."""

from flask import render_template

from portal.access import public
from portal.blueprints.members import bp


@bp.get("/member/")
@public
def index():
    return render_template("members/index.html")
