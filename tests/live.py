"""What the tests that start a real gunicorn share: a free port on 127.0.0.1, a status check, the server, the
server's time, and clients that talk to it each on their own connection."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from portal.services import twofactor
from tests.factories import PASSWORD, TOTP_SECRET

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


def server_time(url: str) -> datetime:
    """The clock of the server answering `url`, from its Date header (UTC, whole seconds rounded down). A server
    in another process reads the real clock, which the `clock` fixture cannot freeze: a test makes its data at
    this time and computes its expectations from it, so it holds whatever the day and hour."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 — our own http://127.0.0.1
        return parsedate_to_datetime(response.headers["Date"])


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


CSRF = re.compile(r"hx-headers='([^']+)'")


class Client:
    """A browser or a till: cookies kept, a new connection for every request (as a phone on a flaky
    network would have it), so every request is its own TCP connection to the server."""

    def __init__(self, server, api_key: str | None = None):
        self.server, self.cookies, self.api_key = server, {}, api_key

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=60)
        conn.connect()
        return conn

    def send(self, method: str, path: str, *, form: dict | None = None, body: dict | None = None,
             headers: dict | None = None, conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, str]:
        headers = {"Host": "127.0.0.1", "Connection": "close", "Accept-Language": "en", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        data = None
        if form is not None:
            data, headers["Content-Type"] = urllib.parse.urlencode(form), "application/x-www-form-urlencoded"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        conn = conn or self.connect()
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, dict(response.headers), text

    def csrf(self, path: str) -> str:
        status, _, html = self.send("GET", path)
        assert status == 200, (path, status)
        return json.loads(CSRF.search(html).group(1))["X-CSRFToken"]

    def login(self, phone: str, secret: str = TOTP_SECRET) -> None:
        """The password, then (staff, administrators, anyone enrolled) a code of `secret` at the server's time."""
        status, headers, _ = self.send("POST", "/login", form={"phone": phone, "password": PASSWORD,
                                                                "csrf_token": self.csrf("/login")})
        assert status == 303, status
        if headers.get("Location") == "/login/code":
            status, headers, html = self.send("GET", "/login/code")
            code = twofactor.code_at(secret, parsedate_to_datetime(headers["Date"]))
            token = json.loads(CSRF.search(html).group(1))["X-CSRFToken"]
            status, _, _ = self.send("POST", "/login/code", form={"code": code, "csrf_token": token})
            assert status == 303, status


def at_once(count: int, run) -> list:
    """`run(n, barrier)` for n in 0…count-1, each in its own thread; the threads pass the barrier together.
    Their results, in order."""
    barrier = threading.Barrier(count, timeout=60)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda n: run(n, barrier), range(count)))
