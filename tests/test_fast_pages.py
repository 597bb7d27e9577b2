"""Fast pages (issue 14): the grievance form and the station finder ask the database nothing, and a static file is
compressed once, at brotli's best, whatever the level pages are compressed at."""

from __future__ import annotations

import brotli
import pytest
from sqlalchemy import event

from portal import assets
from portal.extensions import db


@pytest.fixture
def statements(app):
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/grievances/", "/stations/", "/unions?city=4401&district=440106"])
def test_the_light_pages_ask_the_database_nothing(client, statements, path):
    client.get(path)  # the region tree is read once per process
    statements.clear()
    page = client.get(path)
    assert page.status_code == 200 and "regions-picker" in page.get_data(as_text=True)
    assert statements == []


def test_a_static_file_is_compressed_once_at_the_best_quality(client):
    page = client.get("/grievances/").get_data(as_text=True)
    url = next(u for u in page.split('"') if u.startswith("/static/vendor/htmx/htmx.min.js?v="))
    assets._packs.clear()
    first = client.get(url, headers={"Accept-Encoding": "br"})
    raw = brotli.decompress(first.data)
    assert first.headers["Content-Encoding"] == "br" and len(first.data) == len(brotli.compress(raw, quality=11))
    assert len(assets._packs) == 1
    again = client.get(url, headers={"Accept-Encoding": "br"})
    assert again.data == first.data and len(assets._packs) == 1  # packed once, served from memory
    assert first.headers["ETag"].endswith(':br"')
    revalidated = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""
    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip" and gzipped.headers["ETag"].endswith(':gzip"')
