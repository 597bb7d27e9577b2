"""Security headers, request ids and proxy trust, applied to every response."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, session
from werkzeug.middleware.proxy_fix import ProxyFix


def content_security_policy(tile_url: str) -> str:
    """No inline script or eval anywhere; images from this site, plus the map tiles' server when configured."""
    tiles = urlsplit(tile_url) if tile_url else None
    tile_origin = f" {tiles.scheme}://{tiles.netloc.replace('{s}', '*')}" if tiles and tiles.netloc else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data:{tile_origin}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: Flask-WTF checks the Referer of HTTPS form posts and would reject every one.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register(app: Flask) -> None:
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _request_id():
        g.request_id = secrets.token_hex(8)

    csp = content_security_policy(app.config["MAP_TILE_URL"])

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["ENVIRONMENT"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "_user_id" in session:  # a signed-in page must never sit in a shared or back-button cache
            response.headers["Cache-Control"] = "private, no-store"
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response
