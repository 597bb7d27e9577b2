"""Stations in and out as CSV and GeoJSON: a report per bad row, nothing imported when any row is bad, and the
same file imported twice changes nothing."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Station
from portal.services import station_files
from tests.factories import NOW, STATION_ROWS, station_csv


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Station))


def test_a_good_file_imports_and_a_second_import_changes_nothing(ctx):
    first = station_files.import_rows(station_files.read_csv(station_csv(*STATION_ROWS)), None, NOW)
    assert first.ok and (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = station_files.import_rows(station_files.read_csv(station_csv(*STATION_ROWS)), None, NOW)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2) and count() == 2
    renamed = station_files.import_rows(station_files.read_csv(station_csv(
        STATION_ROWS[0].replace("石牌街道工会驿站", "石牌驿站"), STATION_ROWS[1])), None, NOW)
    assert (renamed.created, renamed.updated, renamed.unchanged) == (0, 1, 1)
    station = db.session.scalar(select(Station).where(Station.external_id == "gz-1"))
    assert station.name == "石牌驿站" and station.hours["sat"] == [["00:00", "24:00"]]
    assert db.session.scalar(select(Station).where(Station.external_id == "gz-2")).hours["mon"] == [["22:00", "06:00"]]


def test_bad_rows_are_each_reported_and_nothing_is_imported(ctx):
    bad = [
        STATION_ROWS[0],
        STATION_ROWS[1].replace("23.1290", "91"),                        # bad coordinates
        STATION_ROWS[1].replace("gz-2", "gz-3").replace("toilet", "jacuzzi"),  # unknown facility
        STATION_ROWS[1].replace("gz-2", "gz-4").replace("113.3900", "116.40"),  # in Beijing, not in Tianhe
        STATION_ROWS[1].replace("gz-2", "gz-1"),                         # the same external_id as line 2
        STATION_ROWS[1].replace("gz-2", "gz-5").replace("440106,", "999999,"),  # unknown region
        STATION_ROWS[0].replace("gz-1", "gz-6"),                         # the same station again under another id
        STATION_ROWS[1].replace("gz-2", "gz-7").replace("22:00-06:00", "8点"),  # unreadable hours
    ]
    report = station_files.import_rows(station_files.read_csv(station_csv(*bad)), None, NOW)
    assert not report.ok and count() == 0
    lines = dict(report.problems)
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9]
    assert "坐标有误" in lines[3] and "jacuzzi" in lines[4] and "不在所属地区内" in lines[5]
    assert "第 2 行" in lines[6] and "region_code" in lines[7] and "重复" in lines[8] and "时间" in lines[9]


def test_export_round_trips_through_csv_and_geojson(ctx):
    station_files.import_rows(station_files.read_csv(station_csv(*STATION_ROWS)), None, NOW)
    exported = station_files.export_csv()
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [r["external_id"] for r in rows] == ["gz-1", "gz-2"] and rows[0]["facilities"] == "water|microwave"
    again = station_files.import_rows(station_files.read_csv(exported.encode()), None, NOW)
    assert again.ok and again.unchanged == 2
    geojson = station_files.export_geojson()
    assert geojson["type"] == "FeatureCollection" and geojson["features"][0]["geometry"]["coordinates"] == [
        113.3340, 23.1353]
    back = station_files.import_rows(station_files.read_geojson(json.dumps(geojson).encode()), None, NOW)
    assert back.ok and back.unchanged == 2 and count() == 2


def test_geojson_with_odd_values_is_refused_row_by_row(ctx):
    point = {"type": "Point", "coordinates": [113.334, 23.1353]}
    week = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    base = {"external_id": "x", "name": "驿站", "region_code": "440106006", "hours": week}
    features = [
        {"type": "Feature", "geometry": point, "properties": base | {"facilities": [1, ["water"]]}},
        {"type": "Feature", "geometry": point, "properties": base | {"external_id": "y", "facilities": {"a": 1}}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["NaN", 23]},
         "properties": base | {"external_id": "z"}},
        {"type": "Feature", "geometry": None, "properties": None},
        "not a feature",
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    report = station_files.import_rows(station_files.read_geojson(content), None, NOW)
    assert sorted(line for line, _ in report.problems) == [1, 2, 3, 4, 5] and count() == 0
