"""Fixtures shared by the suite. The database is built by the real migrations once per run; each test
then starts from the Guangdong region tree with no other rows, and at NOW on the application's clock.

PORTAL_TEST_DATABASE_URL selects PostgreSQL (scripts/test.sh starts a throwaway cluster); otherwise a
temporary SQLite file is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import flask_migrate
import pytest
from sqlalchemy import select, text

import portal.clock
from portal import create_app
from portal.exceptions import InvalidInput
from portal.extensions import db, limiter
from portal.models import Campaign, Membership, Role, User
from portal.services import regions, twofactor, users
from tests import factories
from tests.factories import NOW, PASSWORD, TOTP_SECRET  # noqa: F401 — shared from here too

KEEP_TABLES = {"region", "alembic_version"}


def config_for(database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "ENVIRONMENT": "development",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "MESSAGES_KEY": "test-messages-key-that-is-long-enough-0123456789",
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


class Clock:
    """The application's clock during a test: NOW until the test sets or advances it."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> datetime:
        if moment.utcoffset() is None:
            raise ValueError("the clock keeps aware times (UTC), as portal.clock.now gives them")
        self.moment = moment
        return moment

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move on by `delta` or by timedelta's keywords: clock.advance(minutes=5)."""
        self.moment += delta if delta is not None else timedelta(**parts)
        return self.moment

    @staticmethod
    def wall() -> datetime:
        """The real clock, for what a library dates by it, not the application (Flask-Login's remember cookie,
        itsdangerous's form tokens): the one place a test may read it."""
        return datetime.now(UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    """The one way a test sets the time. The views, the CLI and background work ask portal.clock.now, which
    answers NOW for every test, whatever the day and hour the suite runs; a test moves it with clock.set(…) or
    clock.advance(…), and reads it with clock.now(). Only a server in another process (gunicorn) keeps the real
    clock: tests/api/conftest.py sets this clock to that server's."""
    frozen = Clock(NOW)
    monkeypatch.setattr("portal.clock.now", frozen.now)
    return frozen


@pytest.fixture(autouse=True)
def _fresh_numbers():
    """The builders number phones, names and tokens from the start in every test (tests/factories.py)."""
    factories.fresh()


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


def _made(app, build):
    """`build()` in an application context of its own; the session is closed after it."""
    with app.app_context():
        try:
            return build()
        finally:
            db.session.remove()


@pytest.fixture
def make_user(app, clock):
    """An account through the service (tests/factories.py: user), numbered so each call gets a new phone."""

    def make(role: Role | str = Role.MEMBER, region: str | None = None, password: str = PASSWORD,
             phone: str | None = None, name: str = "测试用户", second_factor: bool | None = None):
        def build():
            user = factories.user(role, region, password, phone, name, now=clock.now(), second_factor=second_factor)
            return SimpleNamespace(id=user.id, phone=user.phone, role=user.role, region_code=user.region_code)

        return _made(app, build)

    return make


@pytest.fixture
def make_station(app, clock):
    """A station through the service (石牌街道, Tianhe, by default; tests/factories.py: station); returns its id."""

    def make(lat: float = 23.1353, lng: float = 113.3340, facilities=("water", "seats"), hours=None,
             managers=(), region: str = "440106006", **fields) -> int:
        return _made(app, lambda: factories.station(lat, lng, facilities, hours, managers, region, clock.now(),
                                                    **fields).id)

    return make


@pytest.fixture
def make_member(app, clock):
    """A signed-up, active member (on the roster, then signed up with the number; tests/factories.py: member);
    returns its ids."""

    def make(tag: str = "other", name: str = "张三丰", valid_until: str = ""):
        def build():
            membership = factories.member(tag, name, valid_until, now=clock.now())
            return SimpleNamespace(id=membership.id, phone=membership.user.phone, number=membership.number,
                                   user_id=membership.user_id)

        return _made(app, build)

    return make


@pytest.fixture
def make_merchant(app, clock):
    """A merchant and its terminal key (tests/factories.py: merchant)."""

    def make(category: str = "catering", lat: float = 23.1353, lng: float = 113.3340):
        def build():
            merchant, key = factories.merchant(category, lat, lng, now=clock.now())
            return SimpleNamespace(id=merchant.id, key=key, category=merchant.category)

        return _made(app, build)

    return make


@pytest.fixture
def make_campaign(app, clock):
    """A campaign open to every member, from a day ago for 30 days, unless told otherwise (tests/factories.py:
    campaign)."""

    def make(amount_fen: int = 500, stock: int = 100, **fields):
        def build():
            campaign = factories.campaign(amount_fen, stock, clock.now(), **fields)
            return SimpleNamespace(id=campaign.id, name=campaign.name)

        return _made(app, build)

    return make


@pytest.fixture
def issue(app, clock):
    """Vouchers of a campaign for a member, issued at `at` (the test's clock by default); returns their codes."""

    def make(member, campaign, count: int = 1, at: datetime | None = None) -> list[str]:
        def build():
            holder, of = db.session.get(Membership, member.id), db.session.get(Campaign, campaign.id)
            return [v.code for v in factories.vouchers(holder, of, count, at or clock.now())]

        return _made(app, build)

    return make


def csrf_token(client, path: str = "/") -> str:
    """The token htmx sends, scraped from the page's hx-headers exactly as the browser would read it."""
    html = client.get(path).get_data(as_text=True)
    headers = re.search(r"hx-headers='([^']+)'", html)
    return json.loads(headers.group(1))["X-CSRFToken"]


def grievance_form(client, path: str = "/grievances/", **overrides) -> dict:
    """A worker's filled-in grievance form (a wages appeal in 石牌街道), with the one-time and CSRF tokens of a
    form just fetched from `path`."""
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return {"token": token, "csrf_token": csrf} | {
        "kind": "appeal", "category": "labour.wages", "description": "老板拖欠我们三个月工资，共 12 人。",
        "city": "4401", "district": "440106", "town": "440106006", "employer": "某某建筑劳务公司",
        "amount_owed": "12,000.50", "workers_affected": "12", "anonymous": "y", "consent": "y",
    } | overrides


def login(client, phone: str, password: str = PASSWORD, **extra):
    """Sign in with the password and, when the portal asks for it next (staff, administrators and anyone who
    enrolled), the second factor: a code of TOTP_SECRET (the builders' key). The last answer: 303 once signed in."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"phone": phone, "password": password, "csrf_token": token, **extra})
    if response.status_code == 303 and response.headers["Location"] == "/login/code":
        response = pass_second_factor(client, phone)
    return response


def pass_second_factor(client, phone: str, secret: str = TOTP_SECRET):
    """The code step of a sign-in whose password was accepted, with a code the account has not used yet."""
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": unused_code(client.application, phone, secret),
                                            "csrf_token": token})


def unused_code(app, phone: str, secret: str = TOTP_SECRET) -> str:
    """A code of `secret` at the application's time that the account may still use: each step is accepted once,
    and one step either side of now, so three sign-ins fit in one moment of the frozen clock."""
    with contextlib.suppress(InvalidInput):  # a malformed number never got this far
        phone = users.normalise_phone(phone)
    with app.app_context():
        last = db.session.scalar(select(User.totp_last_step).where(User.phone == phone))
        db.session.remove()
    now = portal.clock.now()
    step = max(twofactor.step_at(now) - twofactor.WINDOW, (last if last is not None else -1) + 1)
    assert step <= twofactor.step_at(now) + twofactor.WINDOW, (
        f"{phone} has used every code of this moment; advance the clock 30 s (clock.advance(seconds=30))")
    return twofactor.code_at(secret, datetime.fromtimestamp(step * twofactor.STEP_SECONDS, UTC))


@pytest.fixture
def login_as(client, make_user):
    """Sign the test client in as a new user of `role` (bound to `region` for staff)."""

    def as_role(role: Role | str, region: str | None = None):
        user = make_user(role, region=region)
        response = login(client, user.phone)
        assert response.status_code == 303, response.get_data(as_text=True)
        return user

    return as_role


# ---------------------------------------------------------------------- the public screen, attacked

def attack(shown: dict, blanket: bool, total: int) -> dict:
    """Every value each hidden part of a public table can take, given the shown parts (a count, "<5", "withheld",
    or None for a part never shown), whether the whole group is withheld, and the total: the small-count rules
    are public, so a withheld part is 5 or more unless the whole group is. Integer ranges add up to every
    integer between their sums, so a value fits when the other parts' range covers the rest of the total."""
    hidden = [key for key, value in shown.items() if not isinstance(value, int)]
    rest = total - sum(value for value in shown.values() if isinstance(value, int))
    ranges = {key: (0, 4) if shown[key] == "<5" else (5, rest) if shown[key] == "withheld" and not blanket
              else (0, rest) for key in hidden}
    lows, highs = sum(lo for lo, _ in ranges.values()), sum(hi for _, hi in ranges.values())
    return {key: {v for v in range(lo, hi + 1) if lows - lo <= rest - v <= highs - hi}
            for key, (lo, hi) in ranges.items()}
