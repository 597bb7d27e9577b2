"""The engine policy: SQLite in WAL with foreign keys and a busy timeout; reads DEFERRED, commands'
write transactions IMMEDIATE. These build their own SQLite database, so they run in the PostgreSQL pass too."""

import threading
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.database import begin_write, command, database_uri
from portal.extensions import db


@pytest.fixture
def sqlite_app(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'policy.sqlite3'}", SQLITE_BUSY_TIMEOUT_MS=3000)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"))
        conn.execute(text("CREATE TABLE counter (n INTEGER UNIQUE)"))
    return app


def test_database_url_choice(tmp_path):
    assert database_uri(None, str(tmp_path)) == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert database_uri("postgresql://u@h/d", "x") == "postgresql+psycopg://u@h/d"
    assert database_uri("postgres://u@h/d", "x") == "postgresql+psycopg://u@h/d"


def test_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
    with sqlite_app.app_context(), pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO child (parent_id) VALUES (42)"))


def _begins(app, run) -> list[str]:
    seen = []
    with app.app_context():
        listener = lambda *a: seen.append(a[2]) if a[2].startswith("BEGIN") else None  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            run()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def test_reads_begin_deferred_and_commands_immediate(sqlite_app):
    def read():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()

    def read_in_a_post():
        with sqlite_app.test_request_context("/", method="POST"):
            read()

    def read_then_command():
        db.session.execute(text("SELECT 1"))
        begin_write()  # ends the read transaction, then takes the write lock
        begin_write()  # already writing: nothing happens
        db.session.execute(text("INSERT INTO counter VALUES (7)"))
        db.session.commit()

    assert _begins(sqlite_app, read) == ["BEGIN DEFERRED"]
    assert _begins(sqlite_app, read_in_a_post) == ["BEGIN DEFERRED"]  # a POST's reads take no lock
    assert _begins(sqlite_app, read_then_command) == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]


def test_deferred_read_then_write_fails_at_once_whatever_the_timeout(sqlite_app):
    """The SQLite finding that shapes the design, reproduced: the busy timeout does not help here."""
    with sqlite_app.app_context():
        engine = db.engine
        with engine.connect().execution_options(sqlite_begin="DEFERRED") as reader:
            reader.begin()
            reader.execute(text("SELECT count(*) FROM counter")).scalar()
            with engine.begin() as writer:
                writer.execute(text("INSERT INTO counter VALUES (1)"))
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                reader.execute(text("INSERT INTO counter VALUES (2)"))
            assert time.monotonic() - started < 1.0  # it did not wait for the 3 s timeout


def test_commands_that_read_then_write_queue_instead_of_failing(sqlite_app):
    errors, threads = [], []

    @command
    def increment():
        n = db.session.execute(text("SELECT coalesce(max(n), 0) FROM counter")).scalar()
        db.session.execute(text("INSERT INTO counter VALUES (:n)"), {"n": n + 1})
        db.session.commit()

    def worker():
        try:
            for _ in range(25):
                with sqlite_app.app_context():
                    increment()
        except Exception as error:  # noqa: BLE001 — collected and asserted below
            errors.append(error)

    for _ in range(4):
        threads.append(threading.Thread(target=worker))
        threads[-1].start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with sqlite_app.app_context():
        assert db.session.execute(text("SELECT count(*), max(n) FROM counter")).one() == (100, 100)
