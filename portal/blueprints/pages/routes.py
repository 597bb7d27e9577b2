"""Home page and health check."""

from flask import Blueprint, current_app, jsonify, render_template

from portal.access import public
from portal.services import health

bp = Blueprint("pages", __name__)


@bp.get("/")
@public
def home():
    return render_template("pages/home.html")


@bp.get("/healthz")
@public
def healthz():
    """200 while the database can be read, else 503 naming it; bounded, so a balancer's check never hangs."""
    if health.database_ok():
        return jsonify({"status": "ok", "database": "ok"})
    body = {"status": "unavailable", "database": "unreachable"}
    return jsonify(body), 503, {"Retry-After": str(int(current_app.config["RETRY_AFTER_S"]))}
