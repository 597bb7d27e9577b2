"""Engine settings that make SQLite safe for a multi-process web server, the database URL choice, the one
way a service starts writing (`command`, `begin_write`), and the one place a database fault becomes
`DatabaseUnavailable` (a lock that stays busy past its bound, a full disk, a PostgreSQL that is down)."""

import math
from functools import wraps
from pathlib import Path

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal import config as defaults
from portal.exceptions import DatabaseUnavailable
from portal.extensions import db

WRITING = "writing"  # Session.info flag: this session's transaction holds the write lock
LOCK_WAIT = "portal_lock_wait_s"  # execution option: how long this transaction may wait for SQLite's lock

# What "unavailable right now" is, by the driver's own codes: SQLite's primary result codes (the low byte of
# sqlite_errorcode) and PostgreSQL's SQLSTATE classes and codes (psycopg's Error.sqlstate).
SQLITE_FAULTS = {5: "busy", 10: "disk I/O error", 13: "disk full", 14: "cannot open"}
PG_FAULTS = (
    "08",  # connection exception: refused, lost, cannot be established
    "53",  # insufficient resources: disk full, out of memory, too many connections
    "57P01", "57P02", "57P03",  # admin shutdown, crash shutdown, cannot connect now (starting up)
    "55P03",  # lock not available: lock_timeout ran out
    "57014",  # query canceled: statement_timeout ran out
)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def database_uri(url: str | None, instance_path: str) -> str:
    """SQLite in instance/ unless a URL is given; postgresql:// URLs are pinned to the psycopg 3 driver."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'portal.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(uri: str, busy_timeout_ms: int) -> dict:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": busy_timeout_ms / 1000}}
    return {"pool_pre_ping": True}


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, a busy timeout; transactions begin DEFERRED unless begin_write asks otherwise."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

        _record.info["busy_ms"] = int(busy_timeout_ms)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        options = connection.get_execution_options()
        # A command waits for the write lock its own bound (DB_LOCK_TIMEOUT_S), shorter than gunicorn's timeout;
        # anything else keeps the engine's busy timeout. Set only when it changes: pooled connections remember.
        wait_ms = round(options[LOCK_WAIT] * 1000) if LOCK_WAIT in options else int(busy_timeout_ms)
        info = connection.connection.info
        if info.get("busy_ms") != wait_ms:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            info["busy_ms"] = wait_ms
        connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _write_ended(session):
    session.info.pop(WRITING, None)


def begin_write() -> None:
    """Start the caller's write transaction; a no-op inside one already.

    On SQLite a DEFERRED transaction that has read and then writes fails at once with "database is
    locked" when another connection committed meanwhile, whatever the busy timeout. So a command first
    ends the read transaction it may be in (reads only: nothing to lose) and begins IMMEDIATE, taking the
    write lock up front, where the busy timeout applies. Work that needs no lock (checking and re-encoding
    photos) belongs before this call; page rendering after the commit reads without the lock.
    """
    session = db.session()  # this context's Session itself (the scoped proxy lacks in_transaction)
    if session.info.get(WRITING):
        return
    wait = float(_setting("DB_LOCK_TIMEOUT_S"))
    sqlite = db.engine.dialect.name == "sqlite"
    try:
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE", LOCK_WAIT: wait} if sqlite else {})
        if not sqlite:  # a row another transaction holds is waited for as long, then DatabaseUnavailable
            session.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(round(wait * 1000))})
    except DatabaseUnavailable:
        session.rollback()
        raise
    session.info[WRITING] = True


def command(func):
    """A service function that changes state: it runs in one write transaction, which it commits."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        begin_write()
        return func(*args, **kwargs)

    return wrapper


def _setting(name: str):
    """The running application's value, or portal.config's default for an engine used outside one."""
    return current_app.config[name] if has_app_context() else getattr(defaults, name)


def is_unavailable(error: BaseException, dialect, disconnect: bool = False) -> bool:
    """Whether the driver's exception means "the database cannot take this now, send it again" rather than a bug.
    Read from the driver's codes (SQLite's result code, PostgreSQL's SQLSTATE), not its words."""
    if dialect.name == "sqlite":
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_FAULTS
    state = getattr(error, "sqlstate", None)
    if state:
        return state.startswith(PG_FAULTS)
    # psycopg's own errors carry no SQLSTATE: the connection failed, timed out or was lost.
    return disconnect or isinstance(error, dialect.loaded_dbapi.OperationalError)


def _overtaken_read(ctx) -> bool:
    """SQLite refusing to turn a read transaction into a write (another writer holds or overtook the lock): that
    is answered at once, whatever the timeout, to code that chose to try (users.resume_session's best-effort
    touch), which handles it itself. A command never meets it: it begins IMMEDIATE."""
    if ctx.dialect.name != "sqlite" or ctx.connection is None or not ctx.statement:
        return False
    immediate = ctx.connection.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
    busy = getattr(ctx.original_exception, "sqlite_errorcode", 0) & 0xFF == 5
    return busy and not immediate and ctx.statement.lstrip().upper().startswith(WRITES)


@event.listens_for(Engine, "handle_error")
def _fault(ctx) -> None:
    """Every engine's driver errors pass here; those that mean "unavailable now" become DatabaseUnavailable (the
    driver's error as its cause). SQLAlchemy still invalidates a lost connection, and pool_pre_ping replaces it
    on the next checkout, so service resumes without a restart."""
    if ctx.is_pre_ping or _overtaken_read(ctx):  # the pool's own check reconnects, or fails here once more
        return
    if is_unavailable(ctx.original_exception, ctx.dialect, ctx.is_disconnect):
        error = ctx.original_exception
        raise DatabaseUnavailable(f"{type(error).__name__}: {str(error).strip()[:300]}")


@event.listens_for(Engine, "do_connect")
def _bounded_connect(dialect, _record, _cargs, cparams) -> None:
    """PostgreSQL connections give up connecting after DB_CONNECT_TIMEOUT_S; those opened to serve a web request
    end any statement after DB_STATEMENT_TIMEOUT_S, below gunicorn's timeout, so a stuck query answers 503."""
    if dialect.name != "postgresql":
        return
    cparams.setdefault("connect_timeout", max(2, math.ceil(float(_setting("DB_CONNECT_TIMEOUT_S")))))
    if has_request_context():
        limit = f"-c statement_timeout={round(float(_setting('DB_STATEMENT_TIMEOUT_S')) * 1000)}"
        cparams["options"] = f"{cparams.get('options', '')} {limit}".strip()
