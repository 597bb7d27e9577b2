from flask import Blueprint

bp = Blueprint("tracking", __name__)

from portal.blueprints.tracking import routes  # noqa: E402,F401  (registers the views on bp)
