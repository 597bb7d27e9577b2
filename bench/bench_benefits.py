"""Redemptions at the till: a real gunicorn on a throwaway SQLite database, 32 concurrent terminals of one
merchant redeeming distinct vouchers through the terminal API (POST /api/v1/vouchers/{code}/redeem, each with
its own Idempotency-Key), each terminal on one keep-alive connection.

Each terminal alternates a redemption and a GET /healthz (one trivial query, the "hello world"), so both are
measured in the same run under the same load; the figures are redemptions per second, p50/p95 of each, and
their ratios. One terminal alone goes first (200 redemptions at most), for the times without queueing.
Afterwards the database must hold exactly one redemption per 201 answer, every voucher used at most once.

Usage: .venv/bin/python bench/bench_benefits.py [--terminals 32] [--seconds 20] [--per-terminal 400]
       [--members 2000] [--workers 4]
Every loop is bounded in count and time; the server is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, update  # noqa: E402

from bench.common import gunicorn, pct  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Campaign, Membership, MembershipStatus, Redemption, Voucher, VoucherStatus  # noqa: E402
from portal.services import benefits, merchants, regions  # noqa: E402


def generate(app, members: int, vouchers: int) -> tuple[str, list[str]]:
    """One restaurant, `members` active memberships and `vouchers` vouchers spread over them; returns the
    merchant's key and the codes. Memberships and vouchers are inserted in bulk (a roster import and a
    campaign's claims would make the same rows, slowly); the merchant and the campaign come from the services."""
    now = datetime.now(UTC)
    with app.app_context():
        regions.import_regions(["44"])
        _, key = merchants.create(name="测试餐厅", lat=23.1353, lng=113.3340, category="catering", now=now)
        campaign = benefits.create_campaign(benefits.CampaignData(
            name="bench", amount_fen=500, stock=vouchers, starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30), per_member=vouchers // members + 1), now)
        db.session.execute(insert(Membership), [
            {"number": f"BENCH{n:07d}", "name": "张三丰", "union_name": "测试工会", "tag": "other",
             "status": MembershipStatus.ACTIVE, "created_at": now} for n in range(members)])
        ids = db.session.scalars(select(Membership.id).order_by(Membership.id)).all()
        codes = sorted({benefits.new_code() for _ in range(vouchers * 2)})[:vouchers]
        db.session.execute(insert(Voucher), [
            {"code": code, "campaign_id": campaign.id, "membership_id": ids[n % members], "period": "",
             "seq": n // members + 1, "status": VoucherStatus.AVAILABLE, "issued_at": now,
             "valid_from": now - timedelta(hours=1), "valid_until": campaign.ends_at}
            for n, code in enumerate(codes)])
        db.session.execute(update(Campaign).values(issued=vouchers))
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    return key, codes


class Terminal:
    """A till on one keep-alive connection (http.client reopens it if the server closed it)."""

    def __init__(self, port: int, key: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.key = key

    def send(self, method: str, path: str, body: dict | None = None, **headers) -> tuple[int, float]:
        headers = {"Host": "127.0.0.1", "X-API-Key": self.key, **headers}
        data = json.dumps(body) if body is not None else None
        if data:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000


def run(port: int, key: str, codes: list[str], terminals: int, per_terminal: int, seconds: float,
        phase: str) -> dict:
    redeem_ms, healthz_ms, statuses, lock, clock = [], [], {}, threading.Lock(), {}
    # The clock starts when every terminal is connected and warm, and all start together.
    barrier = threading.Barrier(terminals, action=lambda: clock.update(start=time.monotonic()), timeout=60)

    def terminal(n: int) -> None:
        till, mine = Terminal(port, key), codes[n * per_terminal:(n + 1) * per_terminal]
        till.send("GET", "/healthz")  # connected and warm before the clock starts
        barrier.wait()
        for i, code in enumerate(mine):
            if time.monotonic() > clock["start"] + seconds:
                return
            status, ms = till.send("POST", f"/api/v1/vouchers/{code}/redeem", {"bill_fen": 3000},
                                   **{"Idempotency-Key": f"{phase}-till-{n}-sale-{i}"})
            hello, hello_ms = till.send("GET", "/healthz")
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                redeem_ms.append(ms)
                if hello == 200:
                    healthz_ms.append(hello_ms)

    threads = [threading.Thread(target=terminal, args=(n,)) for n in range(terminals)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.monotonic() - clock["start"]
    created = statuses.get(201, 0)
    out = {"terminals": terminals, "seconds": round(elapsed, 1), "answers": statuses,
           "redemptions_per_s": round(created / elapsed, 1)}
    for name, values in (("redeem", redeem_ms), ("healthz", healthz_ms)):
        out[name] = {"n": len(values), "p50_ms": round(pct(values, 50), 2), "p95_ms": round(pct(values, 95), 2)}
    out["p50_vs_healthz"] = round(out["redeem"]["p50_ms"] / out["healthz"]["p50_ms"], 1)
    out["p95_vs_healthz"] = round(out["redeem"]["p95_ms"] / out["healthz"]["p95_ms"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--per-terminal", type=int, default=400, help="vouchers each terminal may redeem at most")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-benefits-"))
    env = os.environ | {"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": secrets.token_hex(32),
                        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"), "FLASK_APP": "wsgi",
                        # every terminal is one merchant's: lift the per-key limit, as a big shop would ask
                        "PORTAL_TILL_LIMIT_PER_KEY": "1000000 per minute"}
    os.environ.update(env)
    app = create_app()
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    vouchers = args.terminals * args.per_terminal + 200
    key, codes = generate(app, args.members, vouchers)
    print(f"database {tmp / 'bench.sqlite3'}: 1 merchant, {args.members:,} members, {vouchers:,} vouchers",
          flush=True)

    solo = 200  # vouchers for one terminal alone first: the service times without queueing
    with gunicorn(env, tmp / "server.log", workers=args.workers) as port:
        alone = run(port, key, codes[:solo], 1, solo, min(args.seconds, 10), "alone")
        results = run(port, key, codes[solo:], args.terminals, args.per_terminal, args.seconds, "busy")
    results["one_terminal_alone"] = alone
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Redemption))
        distinct = db.session.scalar(select(func.count(func.distinct(Redemption.voucher_id))))
        used = db.session.scalar(select(func.count()).select_from(Voucher).where(Voucher.status == VoucherStatus.USED))
        db.session.remove()
    created = results["answers"].get(201, 0) + alone["answers"].get(201, 0)
    results["check"] = {"redemption_rows": rows, "answers_201": created, "vouchers_used": used,
                        "ok": rows == created == distinct == used}
    results["workers"] = args.workers
    print(json.dumps(results, indent=2))
    if not results["check"]["ok"]:
        sys.exit("the redemptions stored do not match the 201 answers")


if __name__ == "__main__":
    main()
