"""Light pages: compressed responses, and static files under a content-hash URL cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest

from portal.assets import IMMUTABLE, SHORT
from portal.models import Role
from tests.conftest import csrf_token

STATIC = Path(__file__).resolve().parents[2] / "portal" / "static"


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_every_static_url_on_a_page_carries_the_hash_of_the_files_bytes(client):
    urls = _static_urls(client.get("/grievances/").get_data(as_text=True))
    assert {"/static/css/portal.css", "/static/vendor/htmx/htmx.min.js"} <= {u.split("?")[0] for u in urls}
    for url in urls:
        path, _, version = url.partition("?v=")
        expected = hashlib.sha256((STATIC / path.removeprefix("/static/")).read_bytes()).hexdigest()[:12]
        assert version == expected, url


def test_a_hashed_url_is_cached_a_year_and_a_stale_or_missing_hash_only_briefly(app, client):
    with app.test_request_context():
        from flask import url_for
        current = url_for("static", filename="css/portal.css")
    assert client.get(current).headers["Cache-Control"] == IMMUTABLE
    for stale in ("/static/css/portal.css?v=000000000000", "/static/css/portal.css"):
        response = client.get(stale)
        assert response.status_code == 200 and response.headers["Cache-Control"] == SHORT, stale
    assert client.get("/static/css/nothing.css?v=000000000000").status_code == 404


def test_signed_in_users_get_cacheable_static_files_but_private_pages(client, login_as):
    login_as(Role.MEMBER)
    page = client.get("/account")
    assert page.headers["Cache-Control"] == "private, no-store"
    css = next(u for u in _static_urls(page.get_data(as_text=True)) if "portal.css" in u)
    assert client.get(css).headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("gzip, deflate, br, zstd", "br", brotli.decompress),
    ("gzip, deflate", "gzip", gzip.decompress),
    ("", None, bytes),
    ("identity", None, bytes),
])
def test_pages_and_assets_are_compressed_as_the_client_accepts(client, accept, encoding, decode):
    plain = client.get("/grievances/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    page = client.get("/grievances/", headers={"Accept-Encoding": accept})
    assert page.headers.get("Content-Encoding") == encoding
    assert {"HX-Request", "Accept-Encoding"} <= set(page.vary)
    body = decode(page.data).decode()
    # The CSRF token differs by request (masked), the rest is the same page.
    assert re.sub(r'value="[\w.-]{40,}"', "", body) == re.sub(r'value="[\w.-]{40,}"', "", plain)
    css_url = next(u for u in _static_urls(plain) if "portal.css" in u)
    css = client.get(css_url, headers={"Accept-Encoding": accept})
    assert css.headers.get("Content-Encoding") == encoding
    assert decode(css.data) == (STATIC / "css/portal.css").read_bytes()
    if encoding:
        assert len(css.data) < len((STATIC / "css/portal.css").read_bytes()) / 3
        assert int(css.headers["Content-Length"]) == len(css.data)


def test_images_tiny_bodies_and_empty_answers_go_as_they_are(client, login_as):
    with client.get("/static/vendor/leaflet/images/marker-icon.png", headers={"Accept-Encoding": "br"}) as png:
        assert png.status_code == 200 and "Content-Encoding" not in png.headers
    health = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert len(health.data) < 500 and "Content-Encoding" not in health.headers
    assert health.get_json()["status"] == "ok"
    login_as(Role.MEMBER)
    empty = client.post("/logout", headers={"X-CSRFToken": csrf_token(client, "/account"), "HX-Request": "true",
                                             "Accept-Encoding": "br"})
    assert empty.status_code == 204 and "Content-Encoding" not in empty.headers and empty.data == b""


def test_a_csv_export_is_sent_as_written(client, login_as):
    login_as(Role.ADMIN)
    response = client.get("/benefits/admin/totals.csv", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "Content-Encoding" not in response.headers and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).startswith("\ufeff")
