"""Engine settings that make SQLite safe for a multi-process web server, and the database URL choice."""

from pathlib import Path

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    """WAL, foreign keys, a busy timeout, and IMMEDIATE write transactions.

    A DEFERRED transaction that has read and then writes fails at once with "database is locked" when
    another connection committed meanwhile, whatever the busy timeout; beginning IMMEDIATE takes the write
    lock up front, where the busy timeout applies. Reads in safe-method requests stay DEFERRED so they never
    queue behind writers. A connection may force the mode with execution_options(sqlite_begin=...).
    """

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
        mode = connection.get_execution_options().get("sqlite_begin")
        if mode is None:
            reading = has_request_context() and request.method in SAFE_METHODS
            mode = "DEFERRED" if reading else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")
