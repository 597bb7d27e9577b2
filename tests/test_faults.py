"""Faults answer clearly (issue 13): a write lock held elsewhere past its bound, a full disk and a PostgreSQL stopped
under the app all answer 503 with Retry-After and a message that nothing was recorded; a form comes back filled in
with its one-time token, and sending it again once the fault is gone records it exactly once, without a restart.
While writes wait for the lock, /healthz and pages go on answering (a live gunicorn, configured as `make run` is).

The lock test on the suite's database runs on SQLite and on PostgreSQL; the full-disk and the live-server tests use
a SQLite file of their own, and the PostgreSQL restart runs a throwaway cluster of its own, so all of them run in
the SQLite pass too."""

from __future__ import annotations

import errno
import os
import re
import runpy
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import func, select, text

from portal import config, create_app
from portal.database import begin_write
from portal.extensions import db
from portal.models import ApiChannel, Counter, LedgerEntry, Ticket
from portal.services import regions
from tests.conftest import config_for, dispose, grievance_form
from tests.live import REPO, Client, free_port, gunicorn

TICKET = re.compile(r"44-\d{8}-\d{4}")
TOKEN = re.compile(r'id="token" name="token" type="hidden" value="([^"]+)"')
NOT_RECORDED = {"zh": "您的请求没有被记录", "en": "Your request was not recorded"}
PAGE_NOT_RECORDED = {"zh": "这次请求没有被记录", "en": "your request was not recorded"}
LOCK_S = 0.5  # the bound these tests give a write; the default's is checked against gunicorn's timeout


def count(app, model=Ticket) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


@contextmanager
def write_lock_held(app) -> Iterator[None]:
    """Another connection holds the write lock, as another process would: SQLite's own (BEGIN IMMEDIATE on a
    plain sqlite3 connection), or on PostgreSQL an EXCLUSIVE lock on the ticket table (reads go on, writes wait)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE ticket IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                holder.rollback()


def assert_form_back(response, data: dict, lang: str = "zh") -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert response.headers["Retry-After"] == str(config.RETRY_AFTER_S)
    assert NOT_RECORDED[lang] in html
    assert TOKEN.search(html).group(1) == data["token"]  # the same one-time token: sending it again is safe
    return html


def test_a_write_lock_held_past_the_bound_gives_the_form_back_and_the_resend_records_it_once(app, client,
                                                                                           monkeypatch, caplog):
    monkeypatch.setitem(app.config, "DB_LOCK_TIMEOUT_S", LOCK_S)
    warm = client.post("/grievances/", data=grievance_form(client, description="先来的另一件事"))  # loads jieba
    assert warm.status_code == 200 and count(app) == 1
    data = grievance_form(client, description="锁住的时候写的一段话", employer="某某物流")
    with write_lock_held(app):
        for lang in ("zh", "en"):
            started = time.monotonic()
            response = client.post("/grievances/", data=data, headers={"Accept-Language": lang})
            took = time.monotonic() - started
            html = assert_form_back(response, data, lang)
            assert "锁住的时候写的一段话</textarea>" in html and 'value="某某物流"' in html
            assert LOCK_S <= took < LOCK_S + 1.5, took
        assert count(app) == 1 and count(app, Counter) == 1  # nothing half-written: no ticket, no number taken
    # SQLite's busy timeout ran out at BEGIN IMMEDIATE, or PostgreSQL's lock_timeout at the first write
    assert re.search(r"reason=(OperationalError: database is locked|LockNotAvailable: canceling statement due to "
                     r"lock timeout)", caplog.text), caplog.text
    first = client.post("/grievances/", data=data)
    again = client.post("/grievances/", data=data)
    assert first.status_code == again.status_code == 200
    number = TICKET.search(first.get_data(as_text=True)).group(0)
    assert TICKET.search(again.get_data(as_text=True)).group(0) == number and count(app) == 2


def test_a_form_view_that_shows_refusals_itself_still_answers_503_for_a_fault(app, client, login_as, monkeypatch):
    """The ledger shows a service's refusal on its form (`except DomainError`): a fault is not one, so it still
    reaches the one handler and comes back 503 with the form."""
    monkeypatch.setitem(app.config, "DB_LOCK_TIMEOUT_S", LOCK_S)
    login_as("staff", region="440106")
    html = client.get("/staff/ledger").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1),
            "token": TOKEN.search(html).group(1), "channel": "hotline", "kind": "consultation",
            "category": "labour.hours", "summary": "来电问加班费", "answer": "按规定不低于 150%"}
    with write_lock_held(app):
        html = assert_form_back(client.post("/staff/ledger", data=data), data)
        assert "来电问加班费</textarea>" in html
    assert count(app, LedgerEntry) == 0
    assert client.post("/staff/ledger", data=data).status_code == 200 and count(app, LedgerEntry) == 1


# --- a SQLite file of the tests' own ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated SQLite database with the region tree, its WAL folded in: copied by each test that needs one."""
    path = tmp_path_factory.mktemp("faults") / "template.sqlite3"
    made = create_app(config_for(f"sqlite:///{path}"))
    with made.app_context():
        flask_migrate.upgrade()
        regions.import_regions(["44"])
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
    dispose(made)
    return path


@contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (the tests run as root, here and in CI), unmounted afterwards."""
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True, timeout=10)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True, timeout=10)


def fill(path: Path) -> None:
    """Write zeros into `path` until the filesystem is full, to its last page."""
    with path.open("wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12):
            try:
                while f.write(b"\0" * size):
                    pass
            except OSError as error:
                assert error.errno == errno.ENOSPC


def test_a_full_disk_answers_503_writes_nothing_and_service_resumes_once_space_is_freed(template, tmp_path, caplog):
    with small_filesystem(tmp_path / "disk", "8m") as disk:
        shutil.copy(template, disk / "portal.sqlite3")
        app = create_app(config_for(f"sqlite:///{disk / 'portal.sqlite3'}", UPLOAD_DIR=str(tmp_path / "up")))
        try:
            client = app.test_client()
            client.post("/grievances/", data=grievance_form(client, description="磁盘满之前"))  # loads jieba
            data = grievance_form(client, description="磁盘满的时候写的")
            fill(disk / "filler")
            html = assert_form_back(client.post("/grievances/", data=data), data)
            assert "磁盘满的时候写的</textarea>" in html
            assert re.search(r"reason=OperationalError: (database or disk is full|disk I/O error)", caplog.text)
            assert client.get("/healthz").status_code == 200  # it can still be read, and says so
            with app.app_context():
                assert db.session.scalar(text("PRAGMA integrity_check")) == "ok"
                db.session.remove()
            assert count(app) == 1 and count(app, Counter) == 1
            (disk / "filler").unlink()
            first = client.post("/grievances/", data=data)
            assert first.status_code == 200 and TICKET.search(first.get_data(as_text=True))
            assert client.post("/grievances/", data=data).status_code == 200 and count(app) == 2
        finally:
            dispose(app)


def _filled_form(client: Client, n: int) -> dict:
    status, _, html = client.send("GET", "/grievances/")
    assert status == 200
    return {"token": TOKEN.search(html).group(1),
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1),
            "kind": "appeal", "category": "labour.wages", "description": f"第 {n} 位工人：工资拖欠",
            "city": "4401", "district": "440106", "town": "440106006", "anonymous": "y", "consent": "y"}


def _timed(client: Client, method: str, path: str, **kwargs) -> tuple[int, float, dict, str]:
    started = time.monotonic()
    status, headers, body = client.send(method, path, **kwargs)
    return status, time.monotonic() - started, headers, body


def test_while_writes_wait_for_a_held_lock_a_live_server_keeps_answering(template, tmp_path):
    """gunicorn as gunicorn.conf.py configures it (threads), one process: three writes wait for a lock another
    connection holds; /healthz and a page answer meanwhile; each write answers 503 within its bound."""
    database = tmp_path / "live.sqlite3"
    shutil.copy(template, database)
    lock_s = 1.0
    env = os.environ | {"PORTAL_DATABASE_URL": f"sqlite:///{database}", "PORTAL_ENVIRONMENT": "development",
                        "PORTAL_SECRET_KEY": "live-faults-secret-key-0123456789abcdef",
                        "PORTAL_UPLOAD_DIR": str(tmp_path / "up"), "PORTAL_DB_LOCK_TIMEOUT_S": str(lock_s)}
    with gunicorn(env, tmp_path / "gunicorn.log", "--workers", "1") as port:
        server = type("Server", (), {"host": "127.0.0.1", "port": port})
        browsers = [Client(server) for _ in range(3)]
        forms = [_filled_form(b, n) for n, b in enumerate(browsers)]
        warm = Client(server)
        assert _timed(warm, "POST", "/grievances/", form=_filled_form(warm, 9))[0] == 200  # jieba, before the lock
        answers: list = [None] * 3

        def write(n: int) -> None:
            answers[n] = _timed(browsers[n], "POST", "/grievances/", form=forms[n])

        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
            for w in writers:
                w.start()
            time.sleep(0.2)  # the writes are waiting now
            health = [_timed(Client(server), "GET", "/healthz") for _ in range(3)]
            page = [_timed(Client(server), "GET", "/stations/") for _ in range(3)]
            for w in writers:
                w.join(timeout=10)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert all(a is not None for a in answers)
        for status, took, headers, body in answers:
            assert status == 503 and headers["Retry-After"] == str(config.RETRY_AFTER_S) and "第 " in body
            assert lock_s <= took < lock_s + 1.0, took
        assert [h[0] for h in health] == [200] * 3 and max(h[1] for h in health) < 1.0, health
        assert [p[0] for p in page] == [200] * 3 and max(p[1] for p in page) < 1.0, page
        resent = [_timed(browsers[n], "POST", "/grievances/", form=forms[n]) for n in range(3)]
        assert [r[0] for r in resent] == [200] * 3
        assert len({TICKET.search(r[3]).group(0) for r in resent}) == 3
        again = [_timed(browsers[n], "POST", "/grievances/", form=forms[n]) for n in range(3)]
        assert {TICKET.search(r[3]).group(0) for r in again} == {TICKET.search(r[3]).group(0) for r in resent}
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM ticket").fetchone() == (4,)


# --- PostgreSQL stopped and started again under the app -----------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    assert found, "PostgreSQL is not installed (scripts/system-deps.sh installs it)"
    return found[-1]


def _as_postgres(*command: str, check: bool = True) -> None:
    """PostgreSQL refuses to run as root: as root the command runs as `postgres`, as scripts/pg.sh does."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 or not check, done.stdout + done.stderr


@contextmanager
def pg_cluster() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A throwaway cluster of this test's own (as scripts/pg.sh makes the suite's), on a port the system gives, so
    it never meets the suite's; yields its URL and stop and start. Deleted afterwards."""
    pg, port = _pg_bin(), free_port()
    home = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
    home.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = home / "data"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off -c synchronous_commit=off"

    def start() -> None:
        _as_postgres(str(pg / "pg_ctl"), "--pgdata", str(data), "--log", str(home / "server.log"), "--wait",
                     "--silent", "-o", options, "start")

    def stop() -> None:
        _as_postgres(str(pg / "pg_ctl"), "--pgdata", str(data), "--mode", "fast", "--wait", "--silent", "stop")

    try:
        _as_postgres(str(pg / "initdb"), "--pgdata", str(data), "--username", "portal", "--auth", "trust",
                     "--encoding", "UTF8", "--locale", "C.UTF-8")
        start()
        _as_postgres(str(pg / "createdb"), "--host", "127.0.0.1", "--port", str(port), "--username", "portal",
                     "faults")
        yield f"postgresql://portal@127.0.0.1:{port}/faults", stop, start
    finally:
        _as_postgres(str(pg / "pg_ctl"), "--pgdata", str(data), "--mode", "immediate", "--silent", "stop",
                     check=False)  # already stopped, or never started: nothing to do
        shutil.rmtree(home, ignore_errors=True)


def test_postgresql_stopped_under_the_app_answers_503_and_the_next_request_after_its_restart_succeeds(tmp_path):
    with pg_cluster() as (url, stop, start):
        app = create_app(config_for(url, UPLOAD_DIR=str(tmp_path / "up")))
        try:
            with app.app_context():
                flask_migrate.upgrade()
                regions.import_regions(["44"])
                db.session.remove()
            client = app.test_client()
            assert client.post("/grievances/", data=grievance_form(client, description="停机之前")).status_code == 200
            data = grievance_form(client, description="数据库停机的时候写的")
            stop()
            started = time.monotonic()
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json == {"status": "unavailable", "database": "unreachable"}
            assert health.headers["Retry-After"] == str(config.RETRY_AFTER_S)
            kept = client.get("/stations/", headers={"Accept-Language": "en"})  # the blank finder, kept per process
            assert kept.status_code == 200  # asks the database nothing (portal/pagecache.py)
            page = client.get("/stations/?city=4401&district=440106", headers={"Accept-Language": "en"})
            assert page.status_code == 503 and page.headers["Retry-After"] == str(config.RETRY_AFTER_S)
            assert PAGE_NOT_RECORDED["en"] in page.get_data(as_text=True)
            # the form asks the database nothing to draw itself (the place picker reads the cached tree), so it
            # comes back filled in, as under a held write lock
            sent = client.post("/grievances/", data=data)
            assert sent.status_code == 503 and NOT_RECORDED["zh"] in sent.get_data(as_text=True)
            assert "数据库停机的时候写的" in sent.get_data(as_text=True)
            assert time.monotonic() - started < 5
            start()
            assert client.get("/healthz").status_code == 200
            first = client.post("/grievances/", data=data)
            assert first.status_code == 200 and TICKET.search(first.get_data(as_text=True))
            assert client.get("/stations/").status_code == 200 and count(app) == 2
            _assert_bounded_waits(app)
        finally:
            dispose(app)


def _assert_bounded_waits(app) -> None:
    """A connection opened for a web request ends a statement after DB_STATEMENT_TIMEOUT_S; one the CLI opens
    does not (a migration may take longer); a command waits DB_LOCK_TIMEOUT_S for a row lock, then gives up."""
    with app.app_context():
        db.engine.dispose()
        assert db.session.scalar(text("SHOW statement_timeout")) == "0"
        db.session.remove()
        db.engine.dispose()
    with app.test_request_context("/"):
        assert db.session.scalar(text("SHOW statement_timeout")) == "20s"
        assert db.session.scalar(text("SHOW lock_timeout")) == "0"
        begin_write()
        assert db.session.scalar(text("SHOW lock_timeout")) == "5s"
        db.session.rollback()
        db.session.remove()


# --- the bounds ---------------------------------------------------------------------------------------------------


def test_every_wait_for_the_database_ends_before_gunicorn_would_kill_the_worker():
    settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    timeout = settings["timeout"]
    waits = {"DB_LOCK_TIMEOUT_S": config.DB_LOCK_TIMEOUT_S, "DB_STATEMENT_TIMEOUT_S": config.DB_STATEMENT_TIMEOUT_S,
             "DB_CONNECT_TIMEOUT_S": config.DB_CONNECT_TIMEOUT_S,
             "SQLITE_BUSY_TIMEOUT_MS": config.SQLITE_BUSY_TIMEOUT_MS / 1000}
    assert {name: wait for name, wait in waits.items() if wait + 1 >= timeout} == {}  # a second to answer in
    assert settings["worker_class"] == "gthread" and settings["threads"] > 1
    run = re.search(r"^run: database\n(.*?)(?=^\S)", (REPO / "Makefile").read_text(), re.S | re.M).group(1)
    assert "scripts/serve.sh" in run  # which starts gunicorn beside the background worker
    run = (REPO / "scripts" / "serve.sh").read_text()
    assert "--config gunicorn.conf.py" in run
    assert not re.search(r"--timeout|--worker-class|-k |--threads", run)  # the file's values stand


def test_a_command_that_meets_a_fault_says_so_in_one_line_and_writes_nothing(app, runner, monkeypatch):
    """`flask …` during a fault: the refusal's one line and exit status 1, not a traceback; run it again."""
    monkeypatch.setitem(app.config, "DB_LOCK_TIMEOUT_S", LOCK_S)
    with app.app_context():
        engine = db.engine
    held = write_lock_held(app) if engine.dialect.name == "sqlite" else _table_locked(engine, "api_channel")
    with held:
        result = runner.invoke(args=["apikeys", "create", "某区 12351 热线系统"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert "not recorded" in result.output or "没有被记录" in result.output, result.output
    assert count(app, ApiChannel) == 0
    assert runner.invoke(args=["apikeys", "create", "某区 12351 热线系统"]).exit_code == 0
    assert count(app, ApiChannel) == 1


@contextmanager
def _table_locked(engine, table: str) -> Iterator[None]:
    with engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            holder.rollback()
