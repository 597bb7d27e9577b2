"""Static files by content: every `url_for('static', ...)` gains `?v=<hash of the file's bytes>`, and only a URL
whose hash matches the file now is cached for a year as immutable. A phone on a weak network then loads each
asset once, and a repeat visit fetches only the page; a release that changes a file changes its URL.

Templates, CSS and JS need no change: the hash is added by a URL default of the static endpoint. Assets that
others name by a fixed path (Leaflet's marker images, found from leaflet.css) keep working and get the short
cache of an unhashed URL."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300, must-revalidate"  # unhashed or stale: a few minutes, then revalidated by ETag


def register(app: Flask) -> None:
    """Registered before portal.security, so this runs after its "private, no-store" for signed-in pages: a
    static file is the same for everyone."""
    root = Path(app.static_folder).resolve()

    @lru_cache(maxsize=512)
    def digest(filename: str) -> str | None:
        """Computed once per process (a release restarts the workers); None for a file that is not there."""
        path = (root / filename).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    app.extensions["asset_digest"] = digest

    @app.url_defaults
    def _hash_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and (found := digest(values.get("filename", ""))):
            values["v"] = found

    @app.after_request
    def _cache_static(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        current = digest(request.view_args.get("filename", "")) if request.view_args else None
        response.headers["Cache-Control"] = IMMUTABLE if current and request.args.get("v") == current else SHORT
        response.expires = None
        if response.direct_passthrough and response.status_code == 200:
            # send_file streams the file; read it (static files are small) so Flask-Compress, which leaves
            # streamed bodies alone (COMPRESS_STREAMS is off for the CSV exports), compresses it.
            response.direct_passthrough = False
            response.make_sequence()
            response.close()  # the file is read: close it now, not when the server is done with the response
        return response
