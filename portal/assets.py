"""Static files by content: every `url_for('static', ...)` gains `?v=<hash of the file's bytes>`, and only a URL
whose hash matches the file now is cached for a year as immutable. A phone on a weak network then loads each
asset once, and a repeat visit fetches only the page; a release that changes a file changes its URL.

Templates, CSS and JS need no change: the hash is added by a URL default of the static endpoint. Assets that
others name by a fixed path (Leaflet's marker images, found from leaflet.css) keep working and get the short
cache of an unhashed URL.

Each static file is compressed once per process, at brotli's (or gzip's) best, and kept: pages are compressed on
every request at a quality cheap enough for that (COMPRESS_BR_LEVEL), a file that never changes need not be."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import brotli
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
            # send_file streams the file; read it (static files are small) and send it compressed once for all.
            response.direct_passthrough = False
            response.make_sequence()
            response.close()  # the file is read: close it now, not when the server is done with the response
            _compress_once(response)
        return response

    compressible, smallest = set(app.config["COMPRESS_MIMETYPES"]), app.config["COMPRESS_MIN_SIZE"]
    algorithms = [a for a in app.config["COMPRESS_ALGORITHM"] if a in PACKERS]

    def _compress_once(response: Response) -> None:
        """As Flask-Compress would (the encoding the client prefers, the ETag marked with it, a 304 when the
        client has that variant), with the bytes compressed at the first request for this version of the file.
        Flask-Compress then leaves the response alone: it has a Content-Encoding."""
        encoding = request.accept_encodings.best_match(algorithms)
        if encoding is None or response.mimetype not in compressible or (response.content_length or 0) < smallest:
            return
        etag, weak = response.get_etag()
        response.set_data(_packed(request.view_args["filename"], etag, encoding, response.get_data()))
        response.headers["Content-Encoding"] = encoding
        if etag and not weak:
            response.set_etag(f"{etag}:{encoding}")
        response.make_conditional(request)


PACKERS = {"br": lambda data: brotli.compress(data, quality=11), "gzip": lambda data: gzip.compress(data, 9, mtime=0)}


_packs: dict[tuple[str, str, str], bytes] = {}


def _packed(filename: str, etag: str | None, encoding: str, data: bytes) -> bytes:
    """Keyed by the file's ETag (its time, size and name), so a file changed under a running server is packed
    again; without one, packed each time."""
    if etag is None:
        return PACKERS[encoding](data)
    key = (filename, etag, encoding)
    found = _packs.get(key)
    if found is None:
        if len(_packs) >= 256:  # bounded: old versions of changed files do not pile up
            _packs.clear()
        found = _packs[key] = PACKERS[encoding](data)
    return found
