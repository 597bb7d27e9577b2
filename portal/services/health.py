"""Liveness of what the portal depends on, for /healthz and load balancers."""

from sqlalchemy import text

from portal.database import LOCK_WAIT
from portal.extensions import db

WAIT_S = 1.0  # a load balancer asks every few seconds: an answer later than this is as bad as none


def database_ok() -> bool:
    """The database can be read now. A read of the file itself on SQLite (SELECT 1 would not open it), a round trip
    on PostgreSQL; on its own connection, bounded: SQLite waits at most WAIT_S for a lock, PostgreSQL's connection
    attempt gives up after DB_CONNECT_TIMEOUT_S. A write lock held elsewhere does not stop it (WAL readers never
    wait for the writer)."""
    probe = "PRAGMA schema_version" if db.engine.dialect.name == "sqlite" else "SELECT 1"
    try:
        with db.engine.connect().execution_options(**{LOCK_WAIT: WAIT_S}) as connection:
            connection.execute(text(probe)).scalar()
    except Exception:  # noqa: BLE001 — any failure means "not reachable" to a load balancer
        return False
    return True
