"""What the benchmarks share: a real gunicorn on 127.0.0.1, stopped by its PID, and percentiles."""

from __future__ import annotations

import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import live  # noqa: E402 — the suite starts and stops gunicorn the same way


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


@contextmanager
def gunicorn(env: dict, log_path: Path, workers: int = 2):
    """Serve the portal with `env` (the suite's live server: waits for /healthz, stops it by its PID)."""
    print(f"server log: {log_path}", flush=True)
    with live.gunicorn(env, log_path, "--workers", str(workers)) as port:
        yield port
