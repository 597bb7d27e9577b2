"""Home page and health check."""

from flask import Blueprint, jsonify, render_template

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
    ok = health.database_ok()
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503
