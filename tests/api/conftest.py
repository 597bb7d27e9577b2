"""Fixtures of the terminal API's tests: benefits data made through the services, and a real gunicorn serving
the test database for the race tests.

The terminal API reads the real clock, so data for it is made relative to `datetime.now(UTC)`, not NOW.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from itertools import count
from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.models import MerchantCategory
from portal.services import benefits, members, merchants
from tests.conftest import PASSWORD, config_for
from tests.live import gunicorn


def now() -> datetime:
    return datetime.now(UTC)


# ----------------------------------------------------------------------------------------------- data

@pytest.fixture
def make_member(app):
    """A signed-up, active member (on the roster, then signed up with the number); returns its ids."""
    numbers = count(1)

    def make(tag: str = "other", name: str = "张三丰", valid_until: str = ""):
        n = next(numbers)
        number, phone = f"GH{n:06d}", f"1390000{n:04d}"
        roster = ("number,name,union,occupation,member_since,valid_until\n"
                  f"{number},{name},天河区总工会,{tag},2020-01-01,{valid_until}\n").encode()
        with app.app_context():
            assert members.import_roster(members.read_roster(roster), None, now()).ok
            membership = members.sign_up(phone=phone, password=PASSWORD, number=number, name=name, now=now())
            made = SimpleNamespace(id=membership.id, phone=phone, number=number, user_id=membership.user_id)
            db.session.remove()
            return made

    return make


@pytest.fixture
def make_merchant(app):
    """A merchant and its terminal key."""
    names = count(1)

    def make(category: str = "catering", lat: float = 23.1353, lng: float = 113.3340):
        with app.app_context():
            merchant, key = merchants.create(name=f"测试商户{next(names)}", lat=lat, lng=lng, category=category,
                                             now=now())
            made = SimpleNamespace(id=merchant.id, key=key, category=MerchantCategory(category))
            db.session.remove()
            return made

    return make


@pytest.fixture
def make_campaign(app):
    """A campaign open to every member, from a day ago for 30 days, unless told otherwise."""
    names = count(1)

    def make(amount_fen: int = 500, stock: int = 100, **fields):
        with app.app_context():
            start = fields.pop("starts_at", now() - timedelta(days=1))
            if "category" in fields:
                fields["category"] = MerchantCategory(fields["category"])
            data = benefits.CampaignData(name=fields.pop("name", f"测试活动{next(names)}"), amount_fen=amount_fen,
                                         stock=stock, starts_at=start,
                                         ends_at=fields.pop("ends_at", start + timedelta(days=30)), **fields)
            campaign = benefits.create_campaign(data, now())
            made = SimpleNamespace(id=campaign.id, name=campaign.name)
            db.session.remove()
            return made

    return make


@pytest.fixture
def issue(app):
    """Vouchers of a campaign for a member (by phone), issued at `at` (now by default); returns their codes."""

    def make(member, campaign, count: int = 1, at: datetime | None = None) -> list[str]:
        with app.app_context():
            codes = [v.code for v in benefits.issue(member.phone, campaign.name, count, at or now())]
            db.session.remove()
            return codes

    return make


# --------------------------------------------------------------------------------------------- server

@pytest.fixture(scope="session")
def live_portal(app, database_url, tmp_path_factory):
    """gunicorn (4 processes × 4 threads) on 127.0.0.1 serving the test database, configured as `config_for`
    configures the test app; yields (host, port). Tests make their data in-process: it is the same database,
    and `_clean` empties it after each test as usual. Rate limits are lifted: the clients are all 127.0.0.1."""
    config = config_for(database_url)
    log_path = tmp_path_factory.mktemp("live-api") / "gunicorn.log"
    env = os.environ | {
        "PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": config["SECRET_KEY"],
        "PORTAL_DATABASE_URL": database_url, "PORTAL_PASSWORD_HASH_METHOD": config["PASSWORD_HASH_METHOD"],
        "PORTAL_UPLOAD_DIR": tempfile.mkdtemp(prefix="portal-uploads-"),
        "PORTAL_LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "PORTAL_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "PORTAL_TILL_LIMIT_PER_KEY": "100000 per minute",
        "PORTAL_SUBMIT_LIMIT_PER_ADDRESS": "100000 per minute",
    }
    with gunicorn(env, log_path, "--workers", "4", "--worker-class", "gthread", "--threads", "4") as port:
        yield SimpleNamespace(host="127.0.0.1", port=port, log=log_path)
