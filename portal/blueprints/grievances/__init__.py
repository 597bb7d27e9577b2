from flask import Blueprint

bp = Blueprint("grievances", __name__)

from portal.blueprints.grievances import routes  # noqa: E402,F401  (registers the views on bp)
