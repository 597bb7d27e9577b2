"""The region tree: import from the vendored public datasets, and the tree queries jurisdiction rules use.

Divisions come from the npm package china-division (official codes, four levels). Centroids come from the
adcode table of the PyPI package cpca, whose points are AutoNavi district centres in GCJ-02; we store them
converted to WGS-84. Both are fetched by scripts/vendor.py and committed under portal/data/regions/.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select

from portal.database import command
from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Region, RegionLevel
from portal.services.geo import gcj02_to_wgs84
from portal.settings import setting

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "regions"


@dataclass(frozen=True)
class Place:
    """A region as the dataset gives it and the cached tree holds it: read-only, shared by every request."""

    code: str
    name: str
    level: RegionLevel
    parent_code: str | None
    lat: float | None
    lng: float | None


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _read_json(data_dir: Path, name: str) -> list[dict]:
    return json.loads((data_dir / "china-division" / f"{name}.json").read_text(encoding="utf-8"))


def _read_centroids(data_dir: Path) -> dict[str, tuple[float, float]]:
    """12-digit adcode → WGS-84 (lat, lng)."""
    centroids = {}
    with (data_dir / "cpca" / "adcodes.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["latitude"] and row["longitude"]:  # a few rows have no point
                centroids[row["adcode"]] = gcj02_to_wgs84(float(row["latitude"]), float(row["longitude"]))
    return centroids


def read_dataset(provinces: list[str] | None, data_dir: Path = DATA_DIR) -> list[Place]:
    """The rows for the given province codes (all provinces when None), parents before children.

    A prefecture-level city without districts (东莞, 中山) appears in the dataset a second time as its
    own pseudo-district; its towns are attached to the city instead, as its union hierarchy is.
    """
    wanted = None if provinces is None else set(provinces)
    known = {p["code"] for p in _read_json(data_dir, "provinces")}
    if wanted is not None and (unknown := wanted - known):
        raise InvalidInput(f"Unknown province code(s): {', '.join(sorted(unknown))}")

    def keep(item: dict) -> bool:
        return wanted is None or item.get("provinceCode", item["code"]) in wanted

    centroids = _read_centroids(data_dir)

    def row(code: str, name: str, level: RegionLevel, parent: str | None) -> Place:
        lat, lng = centroids.get(code.ljust(12, "0"), (None, None))
        return Place(code, name, level, parent, lat, lng)

    rows = [row(p["code"], p["name"], RegionLevel.PROVINCE, None) for p in _read_json(data_dir, "provinces")
            if keep(p)]
    cities = {c["code"]: c for c in _read_json(data_dir, "cities") if keep(c)}
    rows += [row(c["code"], c["name"], RegionLevel.CITY, c["provinceCode"]) for c in cities.values()]
    areas = [a for a in _read_json(data_dir, "areas") if keep(a)]
    collapsed = {a["code"]: a["cityCode"] for a in areas if a["name"] == cities[a["cityCode"]]["name"]}
    rows += [row(a["code"], a["name"], RegionLevel.DISTRICT, a["cityCode"]) for a in areas
             if a["code"] not in collapsed]
    rows += [row(s["code"], s["name"], RegionLevel.TOWN, collapsed.get(s["areaCode"], s["areaCode"]))
             for s in _read_json(data_dir, "streets") if keep(s)]
    for r in rows:
        if r.parent_code is not None and not r.code.startswith(r.parent_code):
            raise InvalidInput(f"Region {r.code} does not extend its parent's code {r.parent_code}")
    return rows


@command
def import_regions(provinces: list[str] | None, data_dir: Path = DATA_DIR) -> ImportResult:
    """Insert or update the regions of the given provinces; running it again changes nothing."""
    rows = read_dataset(provinces, data_dir)
    query = select(Region)
    if provinces is not None:
        query = query.where(or_(*(within(Region.code, p) for p in provinces)))
    existing = {r.code: r for r in db.session.scalars(query)}
    created = updated = 0
    for r in rows:  # parents come first, and a flush inserts in the order added
        region = existing.get(r.code)
        values = {"name": r.name, "level": r.level, "parent_code": r.parent_code, "lat": r.lat, "lng": r.lng}
        if region is None:
            db.session.add(Region(code=r.code, **values))
            created += 1
        elif any(getattr(region, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(region, k, v)
            updated += 1
    db.session.commit()
    forget_tree()
    return ImportResult(created, updated, len(rows) - created - updated)


def within(column: ColumnElement, code: str) -> ColumnElement[bool]:
    """SQL condition: the region code in `column` is `code` or below it (an index-friendly range)."""
    upper = code[:-1] + chr(ord(code[-1]) + 1)
    return and_(column >= code, column < upper)


def get_region(code: str) -> Region:
    region = db.session.get(Region, code) if code else None
    if region is None:
        raise NotFound()
    return region


_tree: dict[str, Place] = {}
_children: dict[str | None, list[Place]] = {}


def _load_tree() -> None:
    """The whole tree, once per process: it changes only through `flask regions import`, which clears it.
    (Other running processes pick an import up when they restart.)"""
    if _tree:
        return
    rows = db.session.execute(select(Region.code, Region.name, Region.level, Region.parent_code, Region.lat,
                                     Region.lng).order_by(Region.code)).all()
    for code, name, level, parent, lat, lng in rows:
        place = Place(code, name, RegionLevel(level), parent, lat, lng)
        _tree[code] = place
        _children.setdefault(parent, []).append(place)


def forget_tree() -> None:
    _tree.clear()
    _children.clear()


def children(code: str | None) -> list[Place]:
    """Direct children of a region, or the provinces when `code` is None, in code order."""
    _load_tree()
    return list(_children.get(code or None, []))


def child_towards(code: str, target: str) -> Place | None:
    """The child of `code` on the way down to `target` (where a case about `target` is sent next), or None when
    `target` is `code` itself or not below it. Every child's code extends its parent's."""
    return next((c for c in children(code) if target.startswith(c.code)), None) if target != code else None


def place(code: str) -> Place:
    """One region from the cached tree; KeyError for a code it does not hold."""
    _load_tree()
    return _tree[code]


def ancestry(code: str) -> list[Place]:
    """The path from the province down to the region `code` itself."""
    _load_tree()
    path = []
    while code is not None and code in _tree:
        path.insert(0, _tree[code])
        code = _tree[code].parent_code
    return path


def is_within(code: str, ancestor: str) -> bool:
    return code.startswith(ancestor)


# A grievance's place must be precise enough to know which union is nearest: a district or a town.
PLACE_LEVELS = frozenset({RegionLevel.DISTRICT, RegionLevel.TOWN})


def is_place_code(code: str) -> bool:
    """A district or town of the configured tree, e.g. the code on a workplace's QR poster."""
    _load_tree()
    place = _tree.get(code or "")
    return (place is not None and place.level in PLACE_LEVELS
            and is_within(place.code, setting("ROOT_REGION")))


def places(level: RegionLevel, within_code: str) -> list[Place]:
    """Every region of one level below `within_code`, from the cached tree."""
    _load_tree()
    return [p for p in _tree.values() if p.level is level and is_within(p.code, within_code)]
