"""A real gunicorn serving the test database, for the race tests (the data builders are tests/conftest.py's)."""

from __future__ import annotations

import os
import tempfile
from types import SimpleNamespace

import pytest

from tests.conftest import config_for
from tests.live import gunicorn, server_time


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory):
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


@pytest.fixture
def live_portal(live_server, clock):
    """The live server, with the test's clock set to the server's. The server reads the real clock (no fixture
    reaches into another process), so what the test makes in-process must be made at the server's time: its
    Date header gives it, whatever the day or hour the suite runs."""
    clock.set(server_time(f"http://{live_server.host}:{live_server.port}/healthz"))
    return live_server
