"""The union staff workbench: the staff member's union, the chain above it and the unions below it."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from portal.access import roles
from portal.models import Role
from portal.services import regions

bp = Blueprint("staff", __name__)


@bp.get("/staff/")
@roles(Role.STAFF, Role.ADMIN)
def index():
    # Administrators oversee the whole configured tree from its root.
    region = current_user.region or regions.get_region(current_app.config["ROOT_REGION"])
    return render_template("staff/index.html", region=region, path=regions.ancestry(region),
                           below=regions.children(region.code), counts=regions.count_regions(region.code))
