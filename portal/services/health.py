"""Liveness of what the portal depends on, for /healthz and load balancers."""

from sqlalchemy import text

from portal.extensions import db


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 — any failure means "not reachable" to a load balancer
        db.session.rollback()
        return False
    return True
