"""Text messages (issue 15): what the outbox delivers, and what it adds to a ticket change.

Measured in one run, on SQLite (default) or the PostgreSQL of --database-url:
  baseline    one client sending signed Aliyun SendSms requests (AliyunSms.send) to the SMS stand-in
              (tests/standin.py) in a loop, no database: the stand-in's raw request rate, every rate is divided by it
  delivery    two `flask worker` processes delivering --messages queued messages to the same stand-in over HTTP:
              messages per second from the first delivery to the last (and from the workers' start), each sent once
  outbox cost tickets.take("accept", …) on tickets whose worker opted in (a Subscription: the change queues a
              message in its transaction) and on tickets without, in turn: ms per change, and the difference
Targets (issue 15): delivery >= 200 messages/s; the outbox adds <= 1 ms to a change.

Usage: .venv/bin/python bench/bench_messages.py [--messages 2000] [--baseline 1000] [--changes 300] [--seconds 60]
       [--database-url postgresql://…]
Every loop is bounded in count and time; the workers are stopped by their PIDs at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import pct  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import MessageState, OutboxMessage, Region, Ticket, User  # noqa: E402
from portal.services import regions, tickets  # noqa: E402
from portal.services.messages import outbox, texts  # noqa: E402
from portal.services.messages.providers.aliyun import AliyunSms  # noqa: E402
from portal.services.messages.providers.base import Outgoing  # noqa: E402
from tests import factories  # noqa: E402
from tests.standin import sms_standin  # noqa: E402

SECRET = "bench-standin-secret"
TEMPLATES = {locale: {name: f"SMS_{n}" for n, name in enumerate(texts.PARAMS, 1)} for locale in texts.LOCALES}


def now() -> datetime:
    return datetime.now(UTC)


def environment(database_url: str, tmp: Path, standin_url: str) -> dict:
    """The workers' settings (and this process's): one secret key and messages key for all, no quiet hours."""
    return os.environ | {
        "FLASK_APP": "wsgi", "PORTAL_ENVIRONMENT": "development", "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": secrets.token_hex(32), "PORTAL_MESSAGES_KEY": secrets.token_hex(32),
        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"), "PORTAL_PUBLIC_URL": "https://portal.example.cn",
        "PORTAL_SMS_PROVIDER": "aliyun", "PORTAL_SMS_ENDPOINT": standin_url,
        "PORTAL_SMS_ALIYUN_ACCESS_KEY_ID": "bench-key", "PORTAL_SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET,
        "PORTAL_SMS_TEMPLATES": json.dumps(TEMPLATES), "PORTAL_QUIET_HOURS": "[0, 0]",
        "PORTAL_MESSAGES_PER_DAY": "1000000", "PORTAL_WORKER_POLL_S": "0.1"}


def baseline(app, standin, count: int, seconds: float) -> dict:
    """One client, the real provider's signed requests, no database: requests per second."""
    with app.app_context():
        provider = AliyunSms.from_config(app.config)
    message = Outgoing("", "13900000000", "accepted", {"number": "44-20261208-0001", "token": "t"}, "zh_CN")
    done, started, deadline = 0, time.perf_counter(), time.monotonic() + seconds
    while done < count and time.monotonic() < deadline:
        provider.send(replace(message, message_id=f"baseline-{done}"))
        done += 1
    return {"requests": done, "per_second": round(done / (time.perf_counter() - started), 1)}


def queue(app, count: int) -> set[str]:
    """`count` news messages about one ticket in one commit, one number each: the daily cap's dearest case (every
    message its number's first of the day)."""
    with app.app_context():
        made = factories.submit(f"bench-messages-{secrets.token_hex(4)}", now()).ticket
        rows = [outbox.enqueue("accepted", f"139{n:08d}", texts.LOCALES[n % 2], now(), ticket_id=made.id)
                for n in range(count)]
        db.session.commit()
        ids = {row.message_id for row in rows}
        db.session.remove()
    return ids


def delivery(app, standin, env: dict, ids: set[str], seconds: float) -> dict:
    """Two workers over the queued `ids`: messages per second, duplicates, rows left unsent."""
    logs = Path(env["PORTAL_UPLOAD_DIR"]).parent
    workers = []
    try:
        started = time.perf_counter()
        for name in ("A", "B"):
            with (logs / f"worker-{name}.log").open("wb") as log:
                workers.append(subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=ROOT, env=env | {
                    "PORTAL_SMS_SIGN_NAME": name}, stdout=log, stderr=subprocess.STDOUT))
        first, before = None, len(standin.delivered)  # the baseline's requests are in it too
        deadline = time.monotonic() + seconds
        while len(standin.delivered) < before + len(ids) and time.monotonic() < deadline:
            if first is None and len(standin.delivered) > before:
                first = time.perf_counter()
            time.sleep(0.005)
        last = time.perf_counter()
    finally:
        for worker in workers:  # SIGTERM by PID: each finishes its batch and exits 0
            worker.send_signal(signal.SIGTERM)
        codes = []
        for worker in workers:
            try:
                codes.append(worker.wait(timeout=30))
            except subprocess.TimeoutExpired:
                worker.kill()
                codes.append(worker.wait())
    delivered = len(ids & standin.delivered.keys())
    with app.app_context():
        unsent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.message_id.in_(list(ids)), OutboxMessage.state != MessageState.SENT))
        db.session.remove()
    steady = (delivered - 1) / (last - first) if first and delivered > 1 else 0.0
    by = {name: sum(1 for mid in ids if (a := standin.delivered.get(mid)) and a.sign_name == name) for name in "AB"}
    return {"messages": len(ids), "delivered": delivered, "duplicates": len(standin.duplicates),
            "rows_not_sent": unsent, "per_second": round(steady, 1),
            "per_second_from_start": round(delivered / (last - started), 1), "by_worker": by,
            "worker_exit_codes": codes, "worker_logs": str(logs)}


def outbox_cost(app, count: int, seconds: float) -> dict:
    """tickets.take("accept", …) on tickets with and without an opted-in worker, in turn: ms per change."""
    with app.app_context():
        staff_id = factories.staff_of("44").id
        tag = secrets.token_hex(4)
        plain = [factories.submit(f"bench-plain-{tag}-{n}", now()).ticket for n in range(count)]
        subscribed = [factories.opted_in(factories.submit(f"bench-sub-{tag}-{n}", now()).ticket,
                                         f"137{n:08d}", now=now()) for n in range(count)]
        ids = [(a.id, b.id) for a, b in zip(plain, subscribed, strict=True)]
        db.session.remove()
        staff = db.session.get(User, staff_id)
        times = {"without": [], "with": []}
        deadline = time.monotonic() + seconds
        for plain_id, sub_id in ids:
            if time.monotonic() > deadline:
                break
            for name, ticket_id in (("without", plain_id), ("with", sub_id)):
                ticket = db.session.get(Ticket, ticket_id)
                started = time.perf_counter()
                tickets.take("accept", ticket, staff, now())
                times[name].append((time.perf_counter() - started) * 1000)
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "accepted", OutboxMessage.ticket_id.in_([b for _, b in ids])))
        db.session.remove()
    out = {name: {"n": len(v), "p50_ms": round(pct(v, 50), 3), "mean_ms": round(statistics.fmean(v), 3),
                  "p95_ms": round(pct(v, 95), 3)} for name, v in times.items()}
    out["added_ms_p50"] = round(out["with"]["p50_ms"] - out["without"]["p50_ms"], 3)
    out["added_ms_mean"] = round(out["with"]["mean_ms"] - out["without"]["mean_ms"], 3)
    out["ratio_p50"] = round(out["with"]["p50_ms"] / out["without"]["p50_ms"], 2)
    out["messages_queued_by_the_changes"] = queued
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database-url", help="PostgreSQL (default: a new SQLite file)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-messages-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)
    with sms_standin("aliyun", secret=SECRET) as standin:
        env = environment(url, tmp, standin.url)
        os.environ.update(env)
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        app = create_app()
        with app.app_context():
            if not db.session.scalar(select(func.count()).select_from(Region)):
                regions.import_regions(["44"])
            db.session.remove()
        results = {"database": url.split(":", 1)[0],
                   "baseline (one client, no database)": baseline(app, standin, args.baseline, args.seconds)}
        ids = queue(app, args.messages)
        results["delivery (two flask worker processes)"] = delivery(app, standin, env, ids, args.seconds)
        rate = results["delivery (two flask worker processes)"]["per_second"]
        results["delivery_vs_baseline"] = round(rate / results["baseline (one client, no database)"]["per_second"], 2)
        results["outbox cost of tickets.take('accept')"] = outbox_cost(app, args.changes, args.seconds)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
