"""Union membership and its benefits."""

from flask import Blueprint, render_template

from portal.access import public

bp = Blueprint("members", __name__)


@bp.get("/member/")
@public
def index():
    return render_template("members/index.html")
