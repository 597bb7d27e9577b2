"""Nearest stations at national scale: N stations (default 200,000) clustered around every city centre of China.

Measured in one run:
  in process   1,000 random nearest queries (radius 5 km, 20 results) through stations.nearby: p50/p95,
               beside a naive loop of geopy.distance.geodesic over every station (a few queries: each takes
               seconds), as a ratio of p50s — target >= 1,000x
  PostGIS      the same queries as a KNN over a GiST index, when the PostGIS extension is installed on the
               PostgreSQL of PORTAL_BENCH_DATABASE_URL (target: ours <= 2x its time); skipped otherwise
  HTTP         requests per second of GET /api/v1/stations/nearby under gunicorn (2 workers) from 64 concurrent
               connections, beside GET /healthz in the same run — target >= 0.25

Usage: .venv/bin/python bench/bench_stations.py [--stations 200000] [--queries 1000] [--seconds 10]
Every loop is bounded in count and time; the server is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geopy.distance import geodesic  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.common import gunicorn, pct  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Region, RegionLevel, Station, StationKind  # noqa: E402
from portal.services import regions, stations  # noqa: E402

ALL_DAY = {d: [["00:00", "24:00"]] for d in stations.WEEKDAYS}
DAYTIME = {d: [["08:00", "20:00"]] for d in stations.WEEKDAYS}


def generate(app, count: int) -> list[tuple[float, float]]:
    """Stations scattered around the centre of every city (and district, for the big ones); returns the
    centres, where the queries are asked."""
    rng = random.Random(186_100)
    with app.app_context():
        regions.import_regions(None)
        centres = db.session.execute(select(Region.code, Region.lat, Region.lng).where(
            Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT]), Region.lat.is_not(None))).all()
        now, batch = datetime.now(UTC), []
        for n in range(count):
            code, lat, lng = rng.choice(centres)
            batch.append({"code": f"B{n:07d}", "name": f"驿站{n}", "kind": StationKind.UNION, "address": "",
                          "region_code": code, "lat": lat + rng.gauss(0, 0.03), "lng": lng + rng.gauss(0, 0.03),
                          "facilities": rng.getrandbits(16), "hours": rng.choice([ALL_DAY, DAYTIME]),
                          "holiday_note": "", "closure_reason": "", "phone": "", "verified_at": now,
                          "updated_at": now})
            if len(batch) == 20_000:
                db.session.execute(insert(Station), batch)
                batch = []
        if batch:
            db.session.execute(insert(Station), batch)
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    return [(lat, lng) for _, lat, lng in centres]


def questions(points: list[tuple[float, float]], queries: int) -> list[tuple[float, float]]:
    """Where riders ask from: near a city centre, as most do."""
    rng = random.Random(1)
    return [(lat + rng.gauss(0, 0.03), lng + rng.gauss(0, 0.03)) for lat, lng in rng.choices(points, k=queries)]


def in_process(app, asks: list[tuple[float, float]], seconds: float) -> dict:
    """stations.nearest gives ids and distances, as the PostGIS query does; stations.nearby also loads the 20
    stations themselves (what the API and the page use)."""
    now, ours, loaded = datetime.now(UTC), [], []
    with app.app_context():
        deadline = time.monotonic() + seconds
        for lat, lng in asks:
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            stations.nearest(lat, lng, now, radius_m=5_000, limit=20)
            ours.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            stations.nearby(lat, lng, now, radius_m=5_000, limit=20)
            loaded.append((time.perf_counter() - started) * 1000)
        everything = db.session.execute(select(Station.id, Station.lat, Station.lng)).all()
        naive = []
        for lat, lng in asks[:3]:  # each reads every station: bounded to three
            started = time.perf_counter()
            found = sorted((geodesic((lat, lng), (s.lat, s.lng)).meters, s.id) for s in everything)
            [pair for pair in found if pair[0] <= 5_000][:20]
            naive.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return {"queries": len(ours), "ours_p50_ms": round(pct(ours, 50), 3), "ours_p95_ms": round(pct(ours, 95), 3),
            "with_stations_loaded_p50_ms": round(pct(loaded, 50), 3),
            "naive_geopy_loop_ms": round(statistics.median(naive), 1),
            "speed_up_p50": round(statistics.median(naive) / pct(ours, 50))}


def postgis(app, asks: list[tuple[float, float]], seconds: float) -> dict:
    """The same questions as a KNN over a GiST index of geography points, on PostgreSQL with PostGIS."""
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL")
    if not url:
        return {"skipped": "set PORTAL_BENCH_DATABASE_URL to a PostgreSQL with PostGIS to compare"}
    import psycopg  # noqa: PLC0415 - only this comparison needs it

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as error:
            return {"skipped": f"PostGIS is not installed: {str(error).strip()[:120]}"}
        conn.execute("DROP TABLE IF EXISTS bench_station")
        conn.execute("CREATE TABLE bench_station (id integer PRIMARY KEY, geog geography(Point, 4326))")
        with app.app_context():
            rows = db.session.execute(select(Station.id, Station.lat, Station.lng)).all()
            db.session.remove()
        with conn.cursor().copy("COPY bench_station (id, geog) FROM STDIN") as copy:
            for station_id, lat, lng in rows:
                copy.write_row((station_id, f"SRID=4326;POINT({lng} {lat})"))
        conn.execute("CREATE INDEX ON bench_station USING gist (geog)")
        conn.execute("ANALYZE bench_station")
        times, deadline = [], time.monotonic() + seconds
        for lat, lng in asks:
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            conn.execute("SELECT id, ST_Distance(geog, q) FROM bench_station, "
                         "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS q) AS p "
                         "WHERE ST_DWithin(geog, q, 5000) ORDER BY geog <-> q LIMIT 20", (lng, lat)).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        conn.execute("DROP TABLE bench_station")
    return {"queries": len(times), "postgis_p50_ms": round(pct(times, 50), 3),
            "postgis_p95_ms": round(pct(times, 95), 3)}


def throughput(port: int, path: str, clients: int, seconds: float) -> float:
    done, lock, deadline = [0], threading.Lock(), time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                with lock:
                    done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    return done[0] / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-stations-"))
    env = os.environ | {"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": secrets.token_hex(32),
                        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "FLASK_APP": "wsgi",
                        "PORTAL_UPLOAD_DIR": str(tmp / "uploads")}
    os.environ.update(env)
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    started = time.monotonic()
    points = generate(app, args.stations)
    print(f"generated {args.stations:,} stations around {len(points)} centres in {time.monotonic() - started:.0f} s",
          flush=True)
    asks = questions(points, args.queries)
    results = {"in process": in_process(app, asks, args.seconds * 6), "postgis": postgis(app, asks, args.seconds * 6)}
    if "postgis_p50_ms" in results["postgis"]:
        results["postgis"]["ours_vs_postgis_p50"] = round(
            results["in process"]["ours_p50_ms"] / results["postgis"]["postgis_p50_ms"], 2)

    with gunicorn(env | {"PORTAL_RATELIMIT_ENABLED": "false"}, tmp / "server.log") as port:
        lat, lng = points[0]
        hello = throughput(port, "/healthz", args.clients, args.seconds)
        nearby = throughput(port, f"/api/v1/stations/nearby?lat={lat:.5f}&lng={lng:.5f}&radius_m=5000&limit=20",
                            args.clients, args.seconds)
        results["http"] = {"healthz_per_s": round(hello), "nearby_per_s": round(nearby),
                           "ratio": round(nearby / hello, 2)}
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
