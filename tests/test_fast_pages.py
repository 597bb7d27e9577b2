"""Fast pages (issue 14): the grievance form and the station finder ask the database nothing, their blank pages are
kept per language and served with fresh tokens, and a static file is compressed once, at brotli's best."""

from __future__ import annotations

import re

import brotli
import pytest
from sqlalchemy import event, select

from portal import assets
from portal.extensions import db
from portal.models import Role, Ticket


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


def _without_tokens(html: str) -> str:
    return re.sub(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}", "TOKEN", html)


@pytest.mark.parametrize("path", ["/grievances/", "/stations/"])
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_kept_blank_page_is_the_page_a_render_gives_with_fresh_tokens(app, make_app, path, language):
    headers = {"Accept-Language": language}
    rendered = make_app(BLANK_PAGE_CACHE=False).test_client().get(path, headers=headers).get_data(as_text=True)
    client = app.test_client()
    first, kept = (client.get(path, headers=headers).get_data(as_text=True) for _ in range(2))
    other = app.test_client().get(path, headers=headers).get_data(as_text=True)
    assert _without_tokens(kept) == _without_tokens(first) == _without_tokens(rendered)
    assert ("Ask the union for help" in kept or "Find a rest station" in kept) == (language == "en")
    tokens = [re.findall(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}", page) for page in (first, kept, other)]
    assert all(tokens) and not set(tokens[0]) & set(tokens[2]) and not set(tokens[1]) & set(tokens[2])


def test_a_grievance_sent_from_a_kept_page_is_accepted(app, client):
    client.get("/grievances/")
    page = client.get("/grievances/").get_data(as_text=True)  # from the kept page: this visitor's own tokens
    value = lambda name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)  # noqa: E731
    sent = client.post("/grievances/", data={
        "csrf_token": value("csrf_token"), "token": value("token"), "kind": "consultation",
        "category": "labour.wages", "description": "工资拖欠三个月", "city": "4401", "district": "440106",
        "anonymous": "y", "consent": "y"})
    assert sent.status_code == 200
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
    assert ticket is not None and ticket.description == "工资拖欠三个月"
    assert ticket.number in sent.get_data(as_text=True)


def test_only_the_blank_page_of_someone_not_signed_in_is_kept(app, client, login_as):
    blank = client.get("/stations/").get_data(as_text=True)
    assert client.get("/stations/?open=n").get_data(as_text=True) != blank  # a question: rendered
    assert 'hx-swap-oob="true"' in client.get("/stations/", headers={"HX-Request": "true"}).get_data(as_text=True)
    login_as(Role.MEMBER)
    signed_in = client.get("/stations/").get_data(as_text=True)
    assert _without_tokens(signed_in) != _without_tokens(blank)  # the member's menu, not the visitor's
