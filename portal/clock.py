"""The one clock. Views, the CLI and background work ask it for the time and pass `now` on to services,
which never read a clock themselves; tests freeze it through one fixture (tests/conftest.py: `clock`)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware and in UTC (shown in Asia/Shanghai by the templates)."""
    return datetime.now(UTC)
