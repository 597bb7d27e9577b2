"""What the tests that start a real gunicorn share: a free port on 127.0.0.1, a status check, and the server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str) -> int | None:
    """The HTTP status of a GET, or None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — our own http://127.0.0.1
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@contextmanager
def gunicorn(env: dict, log_path: Path, *options: str) -> Iterator[int]:
    """gunicorn with `env` and `options` on a free port of 127.0.0.1; yields the port once /healthz answers 200
    (the test fails with the server's output if it does not within 30 s); stops the server by its PID."""
    port = free_port()
    # --no-control-socket: gunicorn's default control socket is one shared path in $HOME, which this
    # server would take over from (and delete under) a `make run` going on at the same time.
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *options, "--no-control-socket",
             "wsgi:app"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while status_of(f"http://127.0.0.1:{port}/healthz") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                state = f"exited with {server.returncode}" if server.poll() is not None else "did not answer"
                pytest.fail(f"gunicorn {state} within {STARTUP_TIMEOUT_S} s; its output:\n"
                            f"{log_path.read_text(errors='replace')}", pytrace=False)
            time.sleep(0.1)
        yield port
    finally:
        if server.poll() is None:
            server.terminate()  # SIGTERM to this PID; gunicorn's arbiter stops its workers
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
