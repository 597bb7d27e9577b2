"""The engine policy: SQLite in WAL with foreign keys and a busy timeout; reads DEFERRED, commands'
write transactions IMMEDIATE. These build their own SQLite database, so they run in the PostgreSQL pass too."""

import sqlite3
import threading
import time

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.database import begin_write, command, database_uri, is_unavailable
from portal.exceptions import DatabaseUnavailable
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


# --- faults: the bounded wait for the lock, and which driver errors mean "unavailable now" ------------------------


@pytest.fixture
def held(sqlite_app):
    """Another process's write lock on the policy database (a plain sqlite3 connection, BEGIN IMMEDIATE)."""
    with sqlite_app.app_context():
        path = db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


def test_a_command_waits_its_own_bound_for_the_lock_then_the_database_is_unavailable(sqlite_app, held):
    sqlite_app.config["DB_LOCK_TIMEOUT_S"] = 0.3  # the engine's busy timeout is 3 s: the command's bound wins

    @command
    def insert():
        db.session.execute(text("INSERT INTO counter VALUES (1)"))
        db.session.commit()

    with sqlite_app.app_context():
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as raised:
            insert()
        assert 0.3 <= time.monotonic() - started < 1.5
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError) and "locked" in raised.value.reason
        assert not db.session().in_transaction()  # rolled back: the session reads on at once, without the lock
        started = time.monotonic()
        assert db.session.execute(text("SELECT count(*) FROM counter")).scalar() == 0
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 3000  # reads keep the engine's
        assert time.monotonic() - started < 0.5
        db.session.rollback()


def test_an_overtaken_read_stays_the_drivers_error_for_the_code_that_chose_to_try(sqlite_app, held):
    """A read transaction that tries to write while another holds the lock is refused at once: code that does this
    on purpose (users.resume_session's best-effort touch) catches OperationalError, so it is not turned into a 503."""
    with sqlite_app.app_context():
        db.session.execute(text("SELECT count(*) FROM counter"))
        with pytest.raises(OperationalError, match="locked"):
            db.session.execute(text("INSERT INTO counter VALUES (3)"))
        db.session.rollback()


def test_a_database_that_cannot_be_opened_is_unavailable(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    with app.app_context(), pytest.raises(DatabaseUnavailable, match="unable to open"):
        db.session.execute(text("SELECT count(*) FROM sqlite_master"))


def test_other_database_errors_stay_errors(sqlite_app):
    """A real bug (a table that does not exist, a broken constraint) is no fault to retry: it stays a 500."""
    with sqlite_app.app_context():
        with pytest.raises(OperationalError, match="no such table"):
            db.session.execute(text("SELECT * FROM no_such_table"))
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
        db.session.rollback()


PG = create_engine("postgresql+psycopg://portal@127.0.0.1/none").dialect  # never connects


@pytest.mark.parametrize(("error", "unavailable"), [
    (pg_errors.AdminShutdown("terminating connection due to administrator command"), True),
    (pg_errors.CrashShutdown("crash"), True),
    (pg_errors.CannotConnectNow("the database system is starting up"), True),
    (pg_errors.TooManyConnections("sorry, too many clients already"), True),
    (pg_errors.DiskFull("could not extend file"), True),
    (pg_errors.ConnectionFailure("server closed the connection"), True),
    (pg_errors.LockNotAvailable("canceling statement due to lock timeout"), True),
    (pg_errors.QueryCanceled("canceling statement due to statement timeout"), True),
    (psycopg.OperationalError("connection failed: Connection refused"), True),  # no SQLSTATE: client side
    (pg_errors.ConnectionTimeout("connection timeout expired"), True),
    (pg_errors.UniqueViolation("duplicate key"), False),
    (pg_errors.UndefinedTable("relation does not exist"), False),
    (pg_errors.NumericValueOutOfRange("integer out of range"), False),
    (pg_errors.UntranslatableCharacter("NUL"), False),
    (pg_errors.SyntaxError("syntax error"), False),
])
def test_postgresql_faults_are_read_from_the_sqlstate(error, unavailable):
    assert is_unavailable(error, PG) is unavailable


@pytest.mark.parametrize(("code", "unavailable"), [
    (5, True), (517, True), (10, True), (778, True), (13, True), (14, True),  # busy, snapshot, I/O, write, full, open
    (1, False), (19, False), (2067, False), (11, False),  # SQL error, constraint, unique, corrupt
])
def test_sqlite_faults_are_read_from_the_result_code(sqlite_app, code, unavailable):
    error = sqlite3.OperationalError("from the driver")
    error.sqlite_errorcode = code
    with sqlite_app.app_context():
        assert is_unavailable(error, db.engine.dialect) is unavailable
