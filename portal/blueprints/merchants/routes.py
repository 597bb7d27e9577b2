"""Partner merchants: the public directory and merchant pages, and the counter where merchant staff redeem."""

from flask import Blueprint

bp = Blueprint("merchants", __name__)
