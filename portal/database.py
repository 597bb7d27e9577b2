"""Engine settings that make SQLite safe for a multi-process web server, the database URL choice, and
the one way a service starts writing (`command`, `begin_write`)."""

from functools import wraps
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.extensions import db

WRITING = "writing"  # Session.info flag: this session's transaction holds the write lock


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

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get('sqlite_begin', 'DEFERRED')}")


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
    if session.in_transaction():
        session.commit()
    options = {"sqlite_begin": "IMMEDIATE"} if db.engine.dialect.name == "sqlite" else {}
    session.connection(execution_options=options)
    session.info[WRITING] = True


def command(func):
    """A service function that changes state: it runs in one write transaction, which it commits."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        begin_write()
        return func(*args, **kwargs)

    return wrapper
