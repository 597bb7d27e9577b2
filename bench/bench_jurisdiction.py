"""Jurisdiction scoping: "this union's region and everything below it", over many rows.

Every staff inbox, count and dashboard later filters by it. Compares, in the same run and on the same data:
  baseline  a recursive CTE walking region.parent_code, then region_code IN (descendants)
  ours      portal.services.regions.within(): one index range on the code (codes extend their parent's)

Usage:  .venv/bin/python bench/bench_jurisdiction.py [--rows 200000] [--repeat 5]
        PORTAL_BENCH_DATABASE_URL=postgresql://… selects PostgreSQL (default: a temporary SQLite file).
Prints p50/p95 per query kind and the speed-up; exits non-zero if the results differ.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Region, RegionLevel  # noqa: E402
from portal.services import regions  # noqa: E402

items = Table("bench_item", MetaData(), Column("id", Integer, primary_key=True),
              Column("region_code", String(12), index=True))


def naive(code: str):
    tree = select(Region.code).where(Region.code == code).cte("tree", recursive=True)
    tree = tree.union_all(select(Region.code).where(Region.parent_code == tree.c.code))
    return select(func.count()).select_from(items).where(items.c.region_code.in_(select(tree.c.code)))


def ours(code: str):
    return select(func.count()).select_from(items).where(regions.within(items.c.region_code, code))


def timed(query) -> tuple[float, int]:
    started = time.perf_counter()
    n = db.session.execute(query).scalar()
    return (time.perf_counter() - started) * 1000, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"ENVIRONMENT": "development", "SECRET_KEY": "bench-" * 8, "DATABASE_URL": url})
    with app.app_context():
        flask_migrate.upgrade()
        regions.import_regions(["44"])
        items.drop(db.engine, checkfirst=True)
        items.create(db.engine)
        towns = db.session.scalars(select(Region.code).where(Region.level == RegionLevel.TOWN)).all()
        rng = random.Random(12351)
        for start in range(0, args.rows, 20_000):
            batch = [{"region_code": rng.choice(towns)} for _ in range(min(20_000, args.rows - start))]
            db.session.execute(items.insert(), batch)
        db.session.commit()
        dialect = db.engine.dialect.name
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE bench_item" if dialect == "postgresql" else "ANALYZE")
        scopes = ["44"] + [r.code for r in regions.children("44")] + ["440106", "440106006"]
        times: dict[str, list[float]] = {"naive": [], "ours": []}
        for _ in range(args.repeat):
            for code in scopes:
                t_naive, n_naive = timed(naive(code))
                t_ours, n_ours = timed(ours(code))
                if n_naive != n_ours:
                    sys.exit(f"results differ for {code}: {n_naive} != {n_ours}")
                times["naive"].append(t_naive)
                times["ours"].append(t_ours)
        db.session.remove()  # end the read transaction before the DDL below
        items.drop(db.engine)
        db.engine.dispose()

    def p(values, q):
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"database: {dialect}, rows: {args.rows:,}, "
          f"scopes: {len(scopes)} (province, 21 cities, a district, a town) x {args.repeat}")
    for name, values in times.items():
        print(f"  {name:<6} p50 {p(values, 50):8.2f} ms   p95 {p(values, 95):8.2f} ms")
    print(f"  speed-up (p50): {p(times['naive'], 50) / p(times['ours'], 50):.1f}x")


if __name__ == "__main__":
    main()
