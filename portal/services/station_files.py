"""Stations in and out as CSV and GeoJSON, for the unions that keep their lists in spreadsheets and GIS tools.

An import is checked whole before anything is written: every bad row is reported with its line and reason,
and one bad row means nothing is imported. Rows are matched by `external_id`, so importing the same file again
changes nothing, and a corrected file updates the stations it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from portal.database import command
from portal.exceptions import InvalidInput
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.models import Station, StationKind, User
from portal.services import csvfile, geo, regions, stations

CSV_COLUMNS = ["external_id", "name", "kind", "address", "region_code", "lat", "lng", "facilities", "phone",
               "holiday_note", *stations.WEEKDAYS]
MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
# How far a station may lie from the centre of its district (or city) before the row is refused: a district
# of rural Guangdong spans some 60 km; a point farther off has its coordinates or its region wrong.
FAR_FROM_REGION_M = 80_000
DUPLICATE_M = 20  # two rows naming the same station at the same point


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line or feature number, what is wrong)

    @property
    def ok(self) -> bool:
        return not self.problems


def _centre(code: str) -> regions.Place | None:
    return next((p for p in reversed(regions.ancestry(code)) if p.lat is not None), None)


def _text(raw: dict, name: str, limit: int | None = None) -> str:
    """A cell or a GeoJSON property as text to keep: a number reads as its digits, but a list or an object is
    refused rather than kept as its Python text, and so is a NUL byte or a lone surrogate (PostgreSQL refuses
    NUL; SQLite would keep it). Longer than `limit`, it is cut there."""
    value = raw.get(name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(_l("%(field)s must be text", field=name))
    try:
        text = parse.storable(str(value), name).strip()
    except InvalidInput:
        raise InvalidInput(_l("%(field)s holds a character that cannot be kept (a control character or a broken "
                              "one)", field=name)) from None
    return text[:limit] if limit else text


def _row(raw: dict, hours) -> stations.StationData:
    """One station from a row's fields; InvalidInput says what is wrong with it."""
    external_id = _text(raw, "external_id")
    name = _text(raw, "name")
    if not external_id or len(external_id) > 64:
        raise InvalidInput(_l("external_id is missing or longer than 64 characters"))
    if not name or len(name) > 100:
        raise InvalidInput(_l("name is missing or longer than 100 characters"))
    try:
        kind = StationKind(_text(raw, "kind") or "union")
    except ValueError:
        raise InvalidInput(_l("unknown kind: use union, outdoor or partner")) from None
    lat, lng = geo.degrees(raw.get("lat"), 90), geo.degrees(raw.get("lng"), 180)
    if lat is None or lng is None:
        raise InvalidInput(_l("bad coordinates: lat and lng must be WGS-84 degrees"))
    code = _text(raw, "region_code")
    if not regions.is_place_code(code):
        raise InvalidInput(_l("unknown region_code: give the code of a district or town of this province"))
    centre = _centre(code)
    off = geo.geodesic_m(lat, lng, centre.lat, centre.lng) if centre else 0
    if off > FAR_FROM_REGION_M:
        raise InvalidInput(_l("the point lies outside its region (%(km)d km from the centre of %(place)s)",
                              km=round(off / 1000), place=centre.name))
    codes = raw.get("facilities") or []
    if isinstance(codes, str):  # a CSV cell: "water|microwave"
        codes = codes.replace(";", "|").split("|")
    if not isinstance(codes, list):
        raise InvalidInput(_l("facilities must be a list of codes"))
    codes = [str(c).strip() for c in codes if str(c).strip()]
    return stations.StationData(
        name=name, kind=kind, address=_text(raw, "address", 200), region_code=code, lat=lat, lng=lng,
        facilities=stations.mask_of(codes), hours=stations.parse_hours(hours),
        phone=_text(raw, "phone", 20), holiday_note=_text(raw, "holiday_note", 200), external_id=external_id)


def read_csv(content: bytes) -> list[tuple[int, dict, dict]]:
    """(line, fields, hours) per row of a UTF-8 CSV (with or without the BOM Excel writes)."""
    return [(n, row, stations.hours_from_text(row)) for n, row in csvfile.read(content, CSV_COLUMNS)]


def read_geojson(content: bytes) -> list[tuple[int, dict, dict]]:
    """(feature number, fields, hours) per Feature of an RFC 7946 FeatureCollection of Points."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(_l("The file is not valid JSON.")) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise InvalidInput(_l("A GeoJSON FeatureCollection is expected."))
    rows = []
    for n, feature in enumerate(data["features"], start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = feature.get("properties") if isinstance(feature, dict) else None
        point = geometry.get("coordinates") if isinstance(geometry, dict) and geometry.get("type") == "Point" else None
        fields = dict(props) if isinstance(props, dict) else {}
        if isinstance(point, list) and len(point) >= 2:
            fields["lng"], fields["lat"] = point[0], point[1]  # RFC 7946: longitude first
        rows.append((n, fields, fields.get("hours")))
    return rows


@command
def import_rows(rows: list[tuple[int, dict, dict]], user: User | None, now: datetime) -> ImportReport:
    """All or nothing: the report lists every problem, and stations are written only when there are none."""
    report = ImportReport(rows=len(rows))
    if len(rows) > MAX_ROWS:
        report.problems.append((0, str(_l("At most %(n)d rows at a time.", n=MAX_ROWS))))
        return report
    parsed, seen, places = [], {}, {}
    for line, raw, hours in rows:
        try:
            data = _row(raw, hours)
        except InvalidInput as error:
            report.problems.append((line, str(error.message)))
            continue
        if data.external_id in seen:
            report.problems.append((line, str(_l("duplicate: the same external_id as line %(line)d",
                                                 line=seen[data.external_id]))))
            continue
        seen[data.external_id] = line
        place = (data.name, round(data.lat, 4), round(data.lng, 4))  # about 10 m
        if place in places:
            report.problems.append((line, str(_l("duplicate: the same station as line %(line)d", line=places[place]))))
            continue
        places[place] = line
        parsed.append((line, data))
    existing = {s.external_id: s for s in db.session.scalars(
        select(Station).where(Station.external_id.in_([d.external_id for _, d in parsed])))} if parsed else {}
    for line, data in parsed:
        twin = _same_place_and_name(data, existing.get(data.external_id), now)
        if twin is not None:
            report.problems.append((line, str(_l("duplicate: station %(code)s has this name at this point",
                                                 code=twin.code))))
    if report.problems:
        db.session.rollback()
        return report
    for _, data in parsed:
        station = existing.get(data.external_id)
        if station is None:
            stations.add(data, now)
            report.created += 1
        elif stations.replace(station, data, user, now):
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.commit()
    return report


def _same_place_and_name(data: stations.StationData, itself: Station | None, now: datetime) -> Station | None:
    """Another station already here under this name (imported before with another id, or entered by hand)."""
    near = stations.nearby(data.lat, data.lng, now, radius_m=DUPLICATE_M, limit=5)
    return next((n.station for n in near if n.station.name == data.name
                 and (itself is None or n.station.id != itself.id)), None)


def export_csv() -> str:
    def row(station: Station) -> list:
        fields = (_fields(station) | {"facilities": "|".join(stations.codes_of(station.facilities))}
                  | {day: stations.hours_text(station.hours.get(day, [])) for day in stations.WEEKDAYS})
        return [fields[column] for column in CSV_COLUMNS]

    stored = db.session.scalars(select(Station).order_by(Station.id)).yield_per(1000)
    return csvfile.write([CSV_COLUMNS, *(row(station) for station in stored)])


def export_geojson() -> dict:
    features = [{"type": "Feature", "id": s.id,
                 "geometry": {"type": "Point", "coordinates": [s.lng, s.lat]},
                 "properties": _fields(s) | {"code": s.code, "facilities": stations.codes_of(s.facilities),
                                              "hours": s.hours}}
                for s in db.session.scalars(select(Station).order_by(Station.id)).yield_per(1000)]
    return {"type": "FeatureCollection", "features": features}


def _fields(station: Station) -> dict:
    return {"external_id": station.external_id or station.code, "name": station.name, "kind": station.kind.value,
            "address": station.address, "region_code": station.region_code, "lat": station.lat, "lng": station.lng,
            "phone": station.phone, "holiday_note": station.holiday_note}
