"""Light and fast pages: the grievance form, the station finder and the dashboard, as a cheap phone on a weak network
gets them.

Measured in one run:
  bytes        the grievance form's first load (the page, then every static file it names, br-compressed as a
               browser asks for them; headers included) and a repeat visit (only what is not cached as immutable
               must be fetched again) — target <= 40 KB first, only the HTML on repeat.
               tests/browser/test_light_pages.py measures the same in Chromium. The same for the dashboard, the
               public screen and the staff one (signed in as the demo's province staff) — target <= 400 KB first
               (issue 14: its ECharts is a custom build, scripts/echarts/build.sh); tests/browser/test_dashboard.py
               measures it in Chromium at 360x640.
  in process   times of GET /grievances/ and GET /stations/ through the Flask test client (p50/p95), each
               request a new visitor: the blank pages as served (kept per language, portal/pagecache.py) and
               rendered in full (the cache off) — target <= 3 ms (issue 14)
  HTTP         requests per second of both pages under gunicorn as `make run` serves them (SERVED_AS: 2 gthread
               workers) from 32 concurrent connections, beside a Flask hello-world app under the same settings,
               running at the same time and measured in turn over --rounds rounds — target >= 0.25 of its rate

Usage: .venv/bin/python bench/bench_pages.py [--renders 300] [--seconds 10] [--clients 32] [--rounds 5]
       [--bytes-only]
Every loop is bounded in count and time; each server is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import types
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from bench.common import pct  # noqa: E402
from tests import live  # noqa: E402

PAGES = {"grievance form": "/grievances/", "station finder": "/stations/"}
DASHBOARDS = {"public dashboard": ("/dashboard/public", None), "staff dashboard": ("/dashboard/", "19900000001")}
BROWSER = {"Host": "127.0.0.1", "Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "zh-CN"}

# How `make run` serves the portal (gthread, 8 threads a worker, from gunicorn.conf.py; 2 workers; access log on
# stdout, here its log file): the portal and the hello-world app alike.
SERVED_AS = ("--config", "gunicorn.conf.py", "--workers", "2", "--preload", "--access-logfile", "-")

hello = Flask("hello")  # the yardstick: gunicorn serves it as bench.bench_pages:hello


@hello.get("/")
def _hello():
    return "Hello, World!"


@hello.get("/healthz")
def _hello_health():
    return "ok"


@contextmanager
def hello_server(log_path: Path):
    """The hello-world app under gunicorn with the portal's settings (SERVED_AS), stopped by its PID."""
    port = live.free_port()
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *SERVED_AS,
                                   "--no-control-socket", "bench.bench_pages:hello"],
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while live.status_of(f"http://127.0.0.1:{port}/healthz") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"hello-world gunicorn did not start; see {log_path}")
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes, int]:
    """Status, headers, body as sent (compressed) and the bytes on the wire (status line, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=BROWSER | (headers or {}))
    response = conn.getresponse()
    body = response.read()
    conn.close()
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in
                                                                       response.getheaders()) + "\r\n"
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body, len(head.encode()) + len(body)


def _decoded(body: bytes, encoding: str | None) -> str:
    import gzip  # noqa: PLC0415

    import brotli  # noqa: PLC0415
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, bytes)(body).decode()


def signed_in(port: int, phone: str) -> dict:
    """The Cookie header of a demo account's session: its password, then its authenticator's code."""
    from portal.demo import DEMO_PASSWORD, DEMO_SECOND_FACTORS  # noqa: PLC0415
    from portal.services import twofactor  # noqa: PLC0415

    client = live.Client(types.SimpleNamespace(host="127.0.0.1", port=port))
    form = {"phone": phone, "password": DEMO_PASSWORD, "csrf_token": client.csrf("/login")}
    status, headers, _ = client.send("POST", "/login", form=form)
    assert status == 303, status
    if headers.get("Location") == "/login/code":
        _, headers, html = client.send("GET", "/login/code")
        code = twofactor.code_at(DEMO_SECOND_FACTORS[phone], parsedate_to_datetime(headers["Date"]))
        token = json.loads(live.CSRF.search(html).group(1))["X-CSRFToken"]
        status, headers, _ = client.send("POST", "/login/code", form={"code": code, "csrf_token": token})
        assert status == 303, status
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def bytes_on_the_wire(port: int, path: str, budget_kb: int = 40, page_headers: dict | None = None) -> dict:
    """The page and every static file it names, first load and repeat; `page_headers` go with the page only (a
    session cookie): static files are the same for everyone."""
    status, headers, body, wire = _get(port, path, page_headers)
    assert status == 200, (path, status)
    html = _decoded(body, headers.get("content-encoding"))
    first, repeat, assets = wire, wire, {}
    for url in dict.fromkeys(re.findall(r'(?:src|href)="(/static/[^"]+)"', html)):
        status, asset_headers, _, asset_wire = _get(port, url)
        assert status == 200, (url, status)
        first += asset_wire
        immutable = "immutable" in asset_headers.get("cache-control", "")
        repeat += 0 if immutable else asset_wire
        assets[url.split("?")[0]] = {"bytes": asset_wire, "encoding": asset_headers.get("content-encoding"),
                                     "cached_as_immutable": immutable}
    return {"first_load_bytes": first, "repeat_visit_bytes": repeat, "html_bytes": wire,
            "html_uncompressed_bytes": len(html.encode()), "html_encoding": headers.get("content-encoding"),
            "assets": assets, f"first_load_within_{budget_kb}KB": first <= budget_kb * 1024}


def render_times(renders: int, seconds: float) -> dict:
    """In process, the app as gunicorn's worker has it (the same database), without the network: the blank pages
    as a new visitor gets them (kept per language, portal/pagecache.py), and the same pages rendered in full (the
    page cache off), which is what a search, a QR poster's form or a refused post costs."""
    from portal import create_app  # noqa: PLC0415 — after the environment is set

    results = {}
    for label, config in (("", {}), (", rendered", {"BLANK_PAGE_CACHE": False})):
        app = create_app(config | {"RATELIMIT_ENABLED": False})
        client = app.test_client(use_cookies=False)  # every request a new visitor, as in the HTTP figures
        for name, path in PAGES.items():
            times, deadline = [], time.monotonic() + seconds
            client.get(path)  # warm: templates compiled, caches filled
            for _ in range(renders):
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append((time.perf_counter() - started) * 1000)
            results[name + label] = {"renders": len(times), "p50_ms": round(pct(times, 50), 2),
                                     "p95_ms": round(pct(times, 95), 2)}
    return results


def throughput(port: int, path: str, clients: int, seconds: float) -> tuple[int, float]:
    """Answers of 200 from `clients` connections (a new one for each request, as phones come) in `seconds`."""
    done, lock, deadline = [0], threading.Lock(), time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            status, *_ = _get(port, path)
            if status == 200:
                with lock:
                    done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    return done[0], time.monotonic() - started


def rates(targets: dict[str, tuple[int, str]], clients: int, seconds: float, rounds: int) -> dict:
    """Requests per second of each target, measured in turn in `rounds` short rounds, so a busy moment of the
    machine (other work shares its cores) weighs on the hello-world app and the pages alike; each page's ratio
    to hello-world over the whole run and its lowest and highest round."""
    for port, path in targets.values():  # warm: templates compiled, static digests and catalogues loaded
        for _ in range(20):
            _get(port, path)
    totals = {name: [0, 0.0] for name in targets}
    rounds_seen = []
    for _ in range(rounds):
        this = {}
        for name, (port, path) in targets.items():
            done, elapsed = throughput(port, path, clients, seconds / rounds)
            totals[name][0] += done
            totals[name][1] += elapsed
            this[name] = done / elapsed
        rounds_seen.append(this)
    rate = {name: done / elapsed for name, (done, elapsed) in totals.items()}
    base = rate.pop(HELLO)
    return {"hello_world_per_s": round(base), "rounds": rounds} | {name: {
        "per_s": round(r), "ratio_to_hello_world": round(r / base, 3),
        "ratio_lowest_round": round(min(x[name] / x[HELLO] for x in rounds_seen), 3),
        "ratio_highest_round": round(max(x[name] / x[HELLO] for x in rounds_seen), 3)} for name, r in rate.items()}


HELLO = "hello world"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="each server measured in turn, --seconds in all")
    parser.add_argument("--bytes-only", action="store_true", help="only the bytes on the wire (no timings)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-pages-"))
    env = os.environ | {"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": secrets.token_hex(32),
                        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "FLASK_APP": "wsgi",
                        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"), "PORTAL_RATELIMIT_ENABLED": "false"}
    os.environ.update(env)
    for command in (["db", "upgrade"], ["demo", "load"]):  # the demo's regions and stations, as `make run` has
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, check=True, capture_output=True)

    results: dict = {} if args.bytes_only else {"in process": render_times(args.renders, args.seconds)}
    print(f"server logs: {tmp}", flush=True)
    with live.gunicorn(env, tmp / "server.log", *SERVED_AS) as port:
        results["bytes"] = bytes_on_the_wire(port, PAGES["grievance form"])
        for name, (path, phone) in DASHBOARDS.items():
            results[f"bytes, {name}"] = bytes_on_the_wire(port, path, 400, phone and signed_in(port, phone))
        if args.bytes_only:
            print(json.dumps(results, ensure_ascii=False, indent=2))
            return
        with hello_server(tmp / "hello.log") as hello_port:
            targets = {HELLO: (hello_port, "/")} | {name: (port, path) for name, path in PAGES.items()}
            results["http"] = rates(targets, args.clients, args.seconds, args.rounds)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
