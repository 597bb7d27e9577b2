"""Grievances at scale: a real gunicorn (2 workers) on SQLite with N generated tickets (default 1,000,000).

Measured in one run, over real HTTP on 127.0.0.1:
  baseline   GET /healthz (one trivial query): the "hello world" every figure is divided by
  tracking   POST /track/ with a ticket number and query code (the worker's look-up)
  inbox      GET /staff/ first page for province staff (all tickets), unfiltered and filtered, and for a
             district's staff
  submit     POST /grievances/ from 64 concurrent clients: submissions per second, errors, lost tickets
Targets (issue 3): tracking and inbox p95 ≤ 5x baseline p95; ≥ 150 submissions/s, none lost.

Usage: .venv/bin/python bench/bench_tickets.py [--tickets 1000000] [--requests 400] [--seconds 30] [--keep DIR]
--keep DIR generates the database into DIR once and reuses it on later runs (each run adds its submissions).
Every loop is bounded in count and time; the server is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.common import gunicorn, pct  # noqa: E402
from portal import create_app, demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.forms import new_form_token  # noqa: E402
from portal.models import Counter, Kind, Region, RegionLevel, Role, Status, Ticket  # noqa: E402
from portal.services import regions, sla, taxonomy, tickets, twofactor, users  # noqa: E402

PASSWORD = "Bench-Password-1"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# The benchmark's staff: region and a fixed authenticator key each (staff must sign in with a second factor; a
# bench database is throwaway, so the keys are published here like the password). A code counts once per 30-second
# step and account, so each sign-in of one run uses its own account: bench_dashboard's browser signs in as the
# second province account while its HTTP client holds the first.
STAFF = {"13900000001": ("44", "7R5WMHNWH6UOJ4ZSHB2Z7I6DBG33QG5H"),
         "13900000002": ("44", "LY5PGO5376KWEF2XAXTABV4YYPXQUYQA"),
         "13900000003": ("440106", "E3OZW4QVSORKHDMGYPVZSAN2BOFD65JG")}


def samples_of(app, count: int) -> list[tuple[str, str]]:
    """The (number, code) pairs `generate` returned, found again in a kept database."""
    tokens = [f"bench-{n}" for n in range(7, count, 50_000)]
    with app.app_context():
        rows = db.session.execute(select(Ticket.number, Ticket.submission_token)
                                  .where(Ticket.submission_token.in_(tokens))).all()
        found = [(number, tickets.query_code_for(token)) for number, token in rows]
        db.session.remove()
    return found


def generate(app, count: int) -> list[tuple[str, str]]:
    """Insert `count` tickets spread over two years (nine in ten closed), with the demo's mix of texts, channels,
    answers, ratings and recovered wages; return some (number, code) pairs."""
    rng = random.Random(12351)
    now = datetime.now(UTC)
    texts = [text.format(who="我们班组", n=3) for group in demo.TEXTS.values() for text in group]
    with app.app_context():
        places = db.session.scalars(select(Region.code).where(Region.level == RegionLevel.TOWN)).all()
        handlers = db.session.scalars(select(Region.code).where(Region.level != RegionLevel.TOWN)).all()
        codes = list(taxonomy.CATEGORIES)
        samples, batch, per_day = [], [], {}
        for n in range(count):
            received = now - timedelta(seconds=rng.randrange(0, 730 * 86400))
            day = sla.local_date(received).strftime("%Y%m%d")
            per_day[day] = per_day.get(day, 0) + 1
            number = f"44-{day}-{per_day[day]:04d}"
            token = f"bench-{n}"
            code = tickets.query_code_for(token)
            closed = rng.random() < 0.9
            kind = rng.choice(list(Kind))
            status = Status.CLOSED if closed else rng.choice([Status.SUBMITTED, Status.IN_PROGRESS,
                                                              Status.DISPATCHED, Status.REPLIED])
            due = sla.deadline(received, 5).due_at
            replied = received + timedelta(hours=rng.randrange(1, 240)) if status in (
                Status.CLOSED, Status.REPLIED) else None
            category = rng.choice(codes)
            recovered = rng.randrange(1, 500) * 10_000 if closed and category == "labour.wages" else None
            batch.append({
                "number": number, "query_code_hash": hashlib.sha256(tickets.normalise_code(code).encode()).hexdigest(),
                "submission_token": token, "kind": kind, "category": category,
                "channel": rng.choice(["web", "web", "qr", "api"]), "status": status,
                "open": not closed, "place_code": rng.choice(places), "handler_code": rng.choice(handlers),
                "description": rng.choice(texts), "employer": f"某某公司{n % 5000}", "anonymous": True,
                "contact_name": "", "contact_phone": "", "urgent": False, "received_at": received, "due_at": due,
                "due_provisional": False, "period_days": 5, "rating_comment": "", "reopen_count": 0,
                "updated_at": received, "replied_at": replied,
                "dispatched_at": received + timedelta(hours=3) if rng.random() < 0.2 else None,
                "rating": rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [85, 12, 3])[0]
                if closed else None, "amount_recovered_fen": recovered,
            })
            if n % 50_000 == 7:
                samples.append((number, code))
            if len(batch) == 50_000:
                db.session.execute(insert(Ticket), batch)
                db.session.commit()
                batch = []
        if batch:
            db.session.execute(insert(Ticket), batch)
        # advance each day's number sequence past the generated tickets, as real submissions would have
        db.session.execute(insert(Counter), [{"name": f"ticket:{day}", "value": n} for day, n in per_day.items()])
        db.session.commit()
        tickets.recount()  # a bulk import bypasses the workflow: rebuild the per-union counts, as an operator would
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        enrol_staff(now)
        db.session.remove()
    return samples


def enrol_staff(now: datetime) -> None:
    """The STAFF accounts, each with its key set by the service the demo loader uses (twofactor.install); in the
    caller's app context. Idempotent, so a database kept from before staff needed a second factor gets them too."""
    for phone, (region, secret) in STAFF.items():
        user = users.find_user(phone) or users.create_user(phone=phone, password=PASSWORD, role=Role.STAFF,
                                                           region_code=region, now=now)
        if user.totp_secret != secret:
            twofactor.install(user, secret, None, now)
    db.session.commit()


class Client:
    """One keep-alive HTTP connection with a cookie jar of one session."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.headers = http.client.HTTPMessage()  # the last answer's

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        self.headers = response.headers
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def csrf(self, path: str) -> str:
        return CSRF.search(self.request("GET", path)[1]).group(1)

    def sign_in(self, phone: str) -> None:
        """A STAFF account's password, then the code its authenticator shows at the server's time (its Date)."""
        form = {"phone": phone, "password": PASSWORD, "csrf_token": self.csrf("/login")}
        status, _ = self.request("POST", "/login", form)
        assert (status, self.headers.get("Location")) == (303, "/login/code"), (status, self.headers.get("Location"))
        _, html = self.request("GET", "/login/code")
        for code in fresh_codes(STAFF[phone][1], parsedate_to_datetime(self.headers["Date"])):
            status, html = self.request("POST", "/login/code", {"code": code, "csrf_token": CSRF.search(html).group(1)})
            if status == 303:  # a refused code shows the form again (200)
                return
        raise AssertionError(f"{phone}: every code refused; see the server log")


def fresh_codes(secret: str, now: datetime):
    """Codes to try in turn at the code step, `now` by the server's clock. The portal takes each 30-second step of
    an account once, and another run on a kept database may have signed the account in moments ago: this step's
    code, then the next step's (the portal accepts one step ahead), then, once that step has begun, the one after."""
    step = twofactor.step_at(now)
    for n in range(3):
        if n == 2:
            time.sleep(max(0.0, (step + 1) * twofactor.STEP_SECONDS - time.time()) + 0.5)
        yield twofactor.code_at(secret, datetime.fromtimestamp((step + n) * twofactor.STEP_SECONDS, UTC))


def timed(run, repeat: int, seconds: float) -> list[float]:
    values, deadline = [], time.monotonic() + seconds
    for _ in range(repeat):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        run()
        values.append((time.perf_counter() - started) * 1000)
    return values


def interleaved(runs: dict, repeat: int, seconds: float) -> dict[str, list[float]]:
    """Each run once per round, in turn: a slow moment of the machine weighs on the baseline and on the
    pages alike, so their ratio is steady from run to run (timed one after the other it varied 4x-8x)."""
    values, deadline = {name: [] for name in runs}, time.monotonic() + seconds
    for _ in range(repeat):
        if time.monotonic() > deadline:
            break
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            values[name].append((time.perf_counter() - started) * 1000)
    return values


def submissions(port: int, app, clients: int, seconds: float) -> tuple[int, int, list[str]]:
    """64 concurrent clients post grievances for `seconds`; return (ok, errors, numbers received)."""
    numbers, errors, lock, first_error = [], [0], threading.Lock(), []
    deadline = time.monotonic() + seconds

    def worker():
        client = Client(port)
        csrf = client.csrf("/grievances/")
        with app.test_request_context():
            tokens = [new_form_token() for _ in range(2000)]
        for n, token in enumerate(tokens):
            if time.monotonic() > deadline:
                return
            status, text = client.request("POST", "/grievances/", {  # each a different request: resends are merged
                "csrf_token": csrf, "token": token, "kind": "appeal", "category": "labour.wages",
                "description": f"工地拖欠工资 {threading.get_ident()}-{n}",
                "city": "4401", "district": "440106", "town": "440106006",
                "anonymous": "y", "consent": "y"})
            # past 9,999 tickets a day the sequence grows a digit
            found = re.search(r"44-\d{8}-\d{4,}", text) if status == 200 else None
            with lock:
                if found:
                    numbers.append(found.group(0))
                else:
                    errors[0] += 1
                    if not first_error:
                        first_error.append(f"{status}: " + " ".join(re.findall(r'class="(?:error|alert)"[^>]*>(.*?)<',
                                                                                 text, re.S))[:200])

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    if first_error:
        print("first failed submission:", first_error[0], flush=True)
    return len(numbers), errors[0], numbers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--keep", type=Path, help="generate the database here once, and reuse it")
    args = parser.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    reuse = (tmp / "bench.sqlite3").exists()
    key_file = tmp / "secret_key"  # query codes derive from it: a kept database needs the same key
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    env = os.environ | {"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": key_file.read_text(),
                        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"), "FLASK_APP": "wsgi",
                        # the benchmark is one address sending thousands of requests: lift the per-address limits
                        "PORTAL_SUBMIT_LIMIT_PER_ADDRESS": "1000000 per hour",
                        "PORTAL_LOOKUP_LIMIT_PER_ADDRESS": "1000000 per hour"}
    os.environ.update(env)
    app = create_app()
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    if reuse:
        samples = samples_of(app, args.tickets)
        with app.app_context():
            enrol_staff(datetime.now(UTC))
            db.session.remove()
        print(f"reusing {tmp / 'bench.sqlite3'}", flush=True)
    else:
        with app.app_context():
            regions.import_regions(["44"])
            db.session.remove()
        samples = generate(app, args.tickets)
        print(f"generated {args.tickets:,} tickets in {time.monotonic() - started:.0f} s", flush=True)

    with gunicorn(env, tmp / "server.log") as port:
        results = measure(app, port, samples, args)
    print(json.dumps(results, ensure_ascii=False, indent=2))


def measure(app, port: int, samples, args) -> dict:
    worker, province, district = Client(port), Client(port), Client(port)
    province.sign_in("13900000001")
    district.sign_in("13900000003")
    csrf = worker.csrf("/track/")
    rng = random.Random(1)

    def look_up():
        number, code = rng.choice(samples)
        status, _ = worker.request("POST", "/track/", {"number": number, "code": code, "csrf_token": csrf})
        assert status == 303, status

    def page(client, path):
        def run():
            status, _ = client.request("GET", path)
            assert status == 200, (path, status)
        return run

    runs = {
        "baseline (GET /healthz)": page(worker, "/healthz"),
        "tracking look-up (POST /track/)": look_up,
        "inbox, province, first page": page(province, "/staff/"),
        "inbox, province, open appeals": page(province, "/staff/?status=open&kind=appeal"),
        "inbox, district, first page": page(district, "/staff/"),
    }
    search = page(province, "/staff/?q=%E6%9F%90%E6%9F%90%E5%85%AC%E5%8F%B84242")
    for run in [*runs.values(), search]:  # warm both workers
        for _ in range(4):
            run()
    samples = interleaved(runs, args.requests, args.seconds)
    samples["inbox, province, search employer (no target)"] = timed(search, args.requests, args.seconds / 2)
    out = {name: {"n": len(values), "p50_ms": round(pct(values, 50), 2), "p95_ms": round(pct(values, 95), 2)}
           for name, values in samples.items()}
    base = out["baseline (GET /healthz)"]
    for figures in out.values():
        figures["p50_vs_baseline"] = round(figures["p50_ms"] / base["p50_ms"], 1)
        figures["p95_vs_baseline"] = round(figures["p95_ms"] / base["p95_ms"], 1)
    before = time.monotonic()
    ok, errors, numbers = submissions(port, app, args.clients, args.seconds)
    elapsed = time.monotonic() - before
    with app.app_context():
        sample = sorted(set(numbers))[:5000]
        stored = db.session.scalar(select(db.func.count()).select_from(Ticket).where(Ticket.number.in_(sample)))
        db.session.remove()
    out["submissions"] = {"clients": args.clients, "seconds": round(elapsed, 1), "ok": ok, "errors": errors,
                          "per_second": round(ok / elapsed, 1), "distinct_tickets": len(set(numbers)),
                          "checked_stored": f"{stored} of {len(sample)}"}
    return out


if __name__ == "__main__":
    main()
