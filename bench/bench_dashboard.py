"""The live dashboard at scale: N generated tickets (default 1,000,000) and M ledger contacts on SQLite.

Measured in one run:
  data      the dashboard's data (stats.dashboard: figures for today and the period, overdue, ranking, breakdown,
            30-day K-line, hot words) in the server process, p50/p95, beside the same figures computed by naive
            GROUP BY queries over the ticket and ledger tables; target: rollups ≥ 20× faster, ≤ 50 ms
  poll      what an open screen costs a gunicorn worker while nothing changes: GET /dashboard/live?v=<current>
            (204) beside GET /healthz, over real HTTP
  push      latency from a committed new ticket to the browser showing it: Chromium (Playwright) keeps
            /dashboard/ open while this process submits tickets; median and p95 over --pushes tickets
Also printed: how long `stats.rebuild` takes over everything.

Usage: .venv/bin/python bench/bench_dashboard.py [--tickets 1000000] [--contacts 200000] [--repeat 30]
                                                 [--pushes 20] [--keep DIR] [--parts data,poll,push]
--keep DIR generates the database into DIR once and reuses it (shared with bench_tickets.py --keep DIR).
Every loop is bounded in count and time; the server is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import case, func, insert, select  # noqa: E402

from bench.bench_tickets import PASSWORD, STAFF, Client, enrol_staff, fresh_codes, generate  # noqa: E402
from bench.common import gunicorn, pct  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Channel, Kind, LedgerEntry, Region, Role, Status, Ticket, User  # noqa: E402
from portal.services import regions, sla, stats, tickets  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 — Debian's Chromium, as the suite uses

SCREENS = [("province, this month", "44", "month"), ("province, last 365 days", "44", "year"),
           ("city 4401, this month", "4401", "month"), ("district 440106, this month", "440106", "month")]


def add_contacts(app, count: int) -> None:
    """Hotline calls, visits and letters logged over two years, most by the province's union."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        staff = db.session.scalar(select(User.id).where(User.role == Role.STAFF).limit(1))
        cities = db.session.scalars(select(Region.code).where(func.length(Region.code) == 4)).all()
        batch = []
        for n in range(count):
            batch.append({"at": now - timedelta(seconds=rng.randrange(0, 730 * 86400)),
                          "channel": rng.choice(["hotline", "hotline", "hotline", "visit", "mailbox"]),
                          "region_code": "44" if rng.random() < 0.7 else rng.choice(cities), "staff_id": staff,
                          "kind": Kind.CONSULTATION, "category": "labour.wages", "summary": "咨询欠薪怎么办",
                          "answer": "已解答", "token": f"bench-call-{n}"})
            if len(batch) == 50_000:
                db.session.execute(insert(LedgerEntry), batch)
                batch = []
        if batch:
            db.session.execute(insert(LedgerEntry), batch)
        db.session.commit()
        db.session.remove()


def period_of(name: str, now: datetime) -> stats.Period:
    if name == "year":
        today = sla.local_date(now)
        return stats.period("range", (today - timedelta(days=364)).isoformat(), today.isoformat(), now)
    return stats.period(name, "", "", now)


def _utc(day) -> datetime:
    return datetime.combine(day, datetime.min.time(), sla.SHANGHAI).astimezone(UTC)


def naive(region: str, p: stats.Period, now: datetime) -> dict:
    """The same figures straight from the tickets and the ledger: GROUP BY over the rows of the period."""
    t, entry = Ticket, LedgerEntry
    # every ticket lies within the root: no condition there, or SQLite walks the place index over all of them
    place = regions.within(t.place_code, region) if region != stats.root() else t.id.is_not(None)

    def figures(first, last) -> list:
        received = (place, t.received_at >= _utc(first), t.received_at < _utc(last + timedelta(days=1)))
        logged = (regions.within(entry.region_code, region), entry.at >= _utc(first),
                  entry.at < _utc(last + timedelta(days=1)))
        return [
            db.session.execute(select(t.channel, func.count()).where(*received, t.channel.in_(
                [c.value for c in stats.DIRECT_CHANNELS])).group_by(t.channel)).all(),
            db.session.execute(select(entry.channel, func.count()).where(*logged).group_by(entry.channel)).all(),
            db.session.execute(select(t.status, func.count()).where(*received).group_by(t.status)).all(),
            db.session.execute(select(t.kind, t.category, func.count()).where(*received)
                               .group_by(t.kind, t.category)).all(),
            db.session.execute(select(func.count(t.dispatched_at), func.count(t.rating),
                                      func.sum(case((t.replied_at < t.due_at, 1), else_=0)),
                                      func.count(t.replied_at), func.sum(t.amount_recovered_fen),
                                      func.count(t.amount_recovered_fen)).where(*received)).all(),
            db.session.execute(select(t.rating, func.count()).where(*received).group_by(t.rating)).all(),
        ]

    today = sla.local_date(now)
    out = {"period": figures(p.first, p.last), "today": figures(today, today)}
    children = regions.children(region)
    if children:
        length = len(children[0].code)
        child = func.substr(t.place_code, 1, length)
        out["ranking"] = db.session.execute(select(child, func.count()).where(
            place, t.received_at >= _utc(p.first), t.received_at < _utc(p.last + timedelta(days=1)))
            .group_by(child)).all()
    first, last = stats.kline_days(p)
    since, until = _utc(first - timedelta(days=stats.MA_DAYS - 1)), _utc(last + timedelta(days=1))
    day, hour = stats._local_day(t.received_at), stats._local_hour(t.received_at)
    out["kline"] = db.session.execute(select(day, hour, func.count()).where(
        place, t.received_at >= since, t.received_at < until).group_by(day, hour)).all()
    day, hour = stats._local_day(entry.at), stats._local_hour(entry.at)
    out["kline_calls"] = db.session.execute(select(day, hour, func.count()).where(
        regions.within(entry.region_code, region), entry.at >= since, entry.at < until).group_by(day, hour)).all()
    out["overdue"] = db.session.execute(select(func.count(), func.sum(case((t.due_at <= now, 1), else_=0)))
                                        .where(place, t.open.is_(True))).all()
    return out


def timed(run, repeat: int, seconds: float) -> list[float]:
    values, deadline = [], time.monotonic() + seconds
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        values.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline:
            break
    return values


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(pct(values, 50), 2), "p95_ms": round(pct(values, 95), 2)}


def measure_data(app, repeat: int) -> dict:
    out = {}
    with app.app_context():
        now = datetime.now(UTC)
        for name, region, period_name in SCREENS:
            p = period_of(period_name, now)
            stats.dashboard(region, p, now)  # warm: the region tree and jieba-free reads
            rollups = timed(lambda r=region, p=p: stats.dashboard(r, p, now), repeat, 30)
            plain = timed(lambda r=region, p=p: naive(r, p, now), max(3, repeat // 6), 120)
            a, b = summary(rollups), summary(plain)
            out[name] = {"rollups": a, "naive_group_by": b, "speedup_p50": round(b["p50_ms"] / a["p50_ms"], 1),
                         "speedup_p95": round(b["p95_ms"] / a["p95_ms"], 1)}
        db.session.remove()
    return out


def sign_in(port: int, phone: str) -> Client:
    client = Client(port)
    client.sign_in(phone)  # the password, then the authenticator's code
    return client


def measure_poll(app, port: int, repeat: int) -> dict:
    client = sign_in(port, "13900000001")
    with app.app_context():
        current = stats.version()
        db.session.remove()
    runs = {"baseline (GET /healthz)": "/healthz", "poll, nothing new (GET /dashboard/live → 204)":
            f"/dashboard/live?v={current}", "whole dashboard page (GET /dashboard/)": "/dashboard/"}
    out = {}
    for name, path in runs.items():
        expected = 204 if "live" in path else 200
        for _ in range(3):
            client.request("GET", path)

        def run(path=path, expected=expected):
            status, _ = client.request("GET", path)
            assert status == expected, (path, status)
        out[name] = summary(timed(run, repeat * 10, 20))
    base = out["baseline (GET /healthz)"]["p50_ms"]
    for figures in out.values():
        figures["p50_vs_baseline"] = round(figures["p50_ms"] / base, 1)
    poll = out["poll, nothing new (GET /dashboard/live → 204)"]["p50_ms"]
    out["screens one sync worker can serve at one poll a second"] = int(1000 / poll)
    return out


# Records when the dashboard's live area first shows a version it has not shown before.
WATCH = """() => {
  window.__seen = {};
  const note = () => {
    const live = document.getElementById('dashboard-live');
    if (live && !(live.dataset.version in window.__seen)) window.__seen[live.dataset.version] = Date.now();
  };
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""


def measure_push(app, port: int, pushes: int) -> dict:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 — only this measurement needs a browser

    latencies = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"http://127.0.0.1:{port}/login")
        phone = "13900000002"  # province staff like the poll's account, whose code of this step is spent
        page.fill("input[name=phone]", phone)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert page.url.endswith("/login/code"), page.url
        for code in fresh_codes(STAFF[phone][1], datetime.now(UTC)):  # the server's clock is this machine's
            page.fill("main input[name=code]", code)
            with page.expect_navigation():
                page.click("main form button[type=submit]")
            if "/login" not in page.url:
                break
        assert "/login" not in page.url, page.url
        page.goto(f"http://127.0.0.1:{port}/dashboard/?period=today")
        page.evaluate(WATCH)
        with app.app_context():
            for _ in range(pushes):
                time.sleep(random.uniform(1.0, 2.0))  # a fresh poll phase each time
                tickets.submit(tickets.Submission(kind=Kind.CONSULTATION, category="labour.wages",
                                                  description="工地拖欠工资三个月了", place_code="440106006",
                                                  channel=Channel.WEB), token=f"push-{secrets.token_hex(8)}",
                               now=datetime.now(UTC))
                committed = time.time() * 1000
                marker = stats.version()
                page.wait_for_function(f"() => '{marker}' in window.__seen", timeout=10_000)
                latencies.append(page.evaluate(f"window.__seen['{marker}']") - committed)
            db.session.remove()
        browser.close()
    return {"pushes": len(latencies), "median_ms": round(pct(latencies, 50), 1), "p95_ms": round(pct(latencies, 95), 1),
            "max_ms": round(max(latencies), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="generate the database here once, and reuse it")
    parser.add_argument("--parts", default="data,poll,push", help="which measurements, comma-separated")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    database = tmp / "bench.sqlite3"
    reuse = database.exists()
    key_file = tmp / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    env = os.environ | {"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": key_file.read_text(),
                        "PORTAL_DATABASE_URL": f"sqlite:///{database}", "PORTAL_UPLOAD_DIR": str(tmp / "uploads"),
                        "FLASK_APP": "wsgi"}
    os.environ.update(env)
    app = create_app()
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    results: dict = {}
    started = time.monotonic()
    if not reuse:
        with app.app_context():
            regions.import_regions(["44"])
            db.session.remove()
        generate(app, args.tickets)
        add_contacts(app, args.contacts)
        print(f"generated {args.tickets:,} tickets and {args.contacts:,} contacts in "
              f"{time.monotonic() - started:.0f} s", flush=True)
    with app.app_context():
        enrol_staff(datetime.now(UTC))  # a kept database from before staff needed a second factor
        results["database"] = {"tickets": db.session.scalar(select(func.count()).select_from(Ticket)),
                               "contacts": db.session.scalar(select(func.count()).select_from(LedgerEntry)),
                               "open": db.session.scalar(select(func.count()).select_from(Ticket)
                                                         .where(Ticket.status != Status.CLOSED))}
        if not reuse:  # the bulk insert bypassed the services: build the rollups as an operator would
            rebuilt = time.monotonic()
            results["database"] |= {"cells": stats.rebuild(datetime.now(UTC)),
                                    "rebuild_s": round(time.monotonic() - rebuilt, 1)}
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        db.session.remove()
    print(json.dumps(results["database"]), flush=True)
    if "data" in parts:
        results["data"] = measure_data(app, args.repeat)
        print(json.dumps(results["data"], ensure_ascii=False), flush=True)
    with gunicorn(env, tmp / "server.log") as port:
        if "poll" in parts:
            results["poll"] = measure_poll(app, port, args.repeat)
            print(json.dumps(results["poll"], ensure_ascii=False), flush=True)
        if "push" in parts:
            results["push"] = measure_push(app, port, args.pushes)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
