"""What the benchmarks share: a real gunicorn on 127.0.0.1, stopped by its PID, and percentiles."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


@contextmanager
def gunicorn(env: dict, log_path: Path, workers: int = 2):
    """Serve the portal with `env`; yields the port once /healthz answers (within 20 s); stops the server."""
    port = 18000 + os.getpid() % 2000
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                                   str(workers), "--no-control-socket", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=log)
    print(f"server log: {log_path}", flush=True)
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)
