"""Fixtures shared by the suite. The database is built by the real migrations once per run; each test
then starts from the Guangdong region tree with no other rows.

PORTAL_TEST_DATABASE_URL selects PostgreSQL (scripts/test.sh starts a throwaway cluster); otherwise a
temporary SQLite file is used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from types import SimpleNamespace

import flask_migrate
import pytest
from sqlalchemy import text

from portal import create_app
from portal.extensions import db, limiter
from portal.models import Role
from portal.services import regions, users

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Shanghai
PASSWORD = "Correct-Horse-9"
KEEP_TABLES = {"region", "alembic_version"}


def config_for(database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "ENVIRONMENT": "development",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, cheap enough for hundreds of logins
        "UPLOAD_DIR": tempfile.mkdtemp(prefix="portal-uploads-"),
        **overrides,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def dispose(app) -> None:
    """Close an app's pooled connections (left to the garbage collector they warn, and fail the suite)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(config_for(database_url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        regions.import_regions(["44"])
        db.session.remove()
    yield app
    dispose(app)


@pytest.fixture
def make_app(database_url):
    """Another application (other settings, or another database), disposed after the test."""
    made = []

    def make(url: str | None = None, **overrides):
        made.append(create_app(config_for(url or database_url, **overrides)))
        return made[-1]

    yield make
    for other in made:
        dispose(other)


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts with the region tree only, no uploaded files, and fresh rate-limit counters."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEEP_TABLES:
                    conn.execute(table.delete())
        limiter.reset()
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create an account through the service; phones are numbered so each call gets a new one."""
    counter = iter(range(10_000))

    def make(role: Role | str = Role.MEMBER, region: str | None = None, password: str = PASSWORD,
             phone: str | None = None, name: str = "测试用户"):
        if region is None and Role(role) is Role.STAFF:
            region = "44"
        with app.app_context():
            user = users.create_user(phone=phone or f"1380000{next(counter):04d}", password=password,
                                     role=role, region_code=region, name=name, now=NOW)
            return SimpleNamespace(id=user.id, phone=user.phone, role=user.role, region_code=user.region_code)

    return make


ALL_WEEK = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def make_station(app):
    """A station through the service (石牌街道, Tianhe, by default); returns its id."""
    counter = iter(range(100_000))

    def make(lat: float = 23.1353, lng: float = 113.3340, facilities=("water", "seats"), hours=None,
             managers=(), region: str = "440106006", **fields) -> int:
        from portal.models import StationKind, User
        from portal.services import stations

        n = next(counter)
        with app.app_context():
            data = stations.StationData(
                name=fields.pop("name", f"测试驿站{n}"), kind=fields.pop("kind", StationKind.UNION),
                address=fields.pop("address", "天河区测试路1号"), region_code=region, lat=lat, lng=lng,
                facilities=stations.mask_of(facilities), hours=hours or ALL_WEEK, **fields)
            station = stations.add(data, NOW, managers=[db.session.get(User, m) for m in managers])
            db.session.commit()
            station_id = station.id
            db.session.remove()
            return station_id

    return make


def csrf_token(client, path: str = "/") -> str:
    """The token htmx sends, scraped from the page's hx-headers exactly as the browser would read it."""
    html = client.get(path).get_data(as_text=True)
    headers = re.search(r"hx-headers='([^']+)'", html)
    return json.loads(headers.group(1))["X-CSRFToken"]


def login(client, phone: str, password: str = PASSWORD, **extra):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"phone": phone, "password": password, "csrf_token": token, **extra})


@pytest.fixture
def login_as(client, make_user):
    """Sign the test client in as a new user of `role` (bound to `region` for staff)."""

    def as_role(role: Role | str, region: str | None = None):
        user = make_user(role, region=region)
        response = login(client, user.phone)
        assert response.status_code == 303, response.get_data(as_text=True)
        return user

    return as_role
