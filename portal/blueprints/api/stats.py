"""The public figures of the big screen as JSON: counts only, every count below 5 shown as "<5", rates over at
least 5 cases, no personal data (stats.public_figures decides what is public; this only serves it)."""

from __future__ import annotations

from flask import jsonify, request

from portal import clock
from portal.access import public
from portal.blueprints.api.routes import bp
from portal.services import stats

# A screen or a script polling the figures may be answered by a shared cache for a few seconds: the figures are
# the same for everyone who asks in the same language (the response varies on Accept-Language and the cookie).
CACHE_CONTROL = "public, max-age=5"


@bp.get("/stats/public")
@public
def public_stats():
    """?region= any region of the tree (the root by default; unknown: 404), ?period=today|month|range with
    ?first= and ?last= (ISO dates) for a range; a bad period is a 400 naming the field."""
    now, args = clock.now(), request.args
    region = stats.scope_of(None, args.get("region", ""))
    chosen = stats.period(args.get("period", ""), args.get("first", ""), args.get("last", ""), now)
    board, _ = stats.board_for(region, chosen, now, public=True)
    return jsonify(stats.public_figures(board)), 200, {"Cache-Control": CACHE_CONTROL}
