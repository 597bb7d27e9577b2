"""The API's contract for partners: the OpenAPI 3.1 document as JSON, and the same document as a readable page
(server-rendered, no script, no CDN). Both name this server as a client reached it."""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for

from portal.access import public
from portal.blueprints.api import reference
from portal.blueprints.api.routes import bp

# The document changes only with a release: a partner's tools and any cache in between may keep it a while.
CACHE_CONTROL = "public, max-age=300"


def _server() -> str:
    return request.url_root.rstrip("/")


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(reference.document(_server())), 200, {"Cache-Control": CACHE_CONTROL}


@bp.get("/docs")
@public
def docs():
    return render_template("api/docs.html", page=reference.page(), server=_server(),
                           raw_url=url_for("api.openapi", _external=True))
