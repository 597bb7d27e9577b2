"""Administrators' side of member benefits: the roster, sign-ups to decide, campaigns, and the totals."""

from flask import Blueprint

bp = Blueprint("benefits", __name__, url_prefix="/benefits/admin")
