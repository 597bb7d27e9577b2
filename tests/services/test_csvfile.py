"""CSV exports opened in a spreadsheet never run a formula (OWASP CSV injection), numbers stay numbers, and what
is exported imports again unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from portal.extensions import db
from portal.services import csvfile, station_files, stations
from tests.factories import NOW, STATION_ROWS, station_csv

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR",
            "=1+1", "-cmd|' /C calc'!A0"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip(csvfile.BOM))))


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_would_be_a_formula_is_written_as_text(value):
    written = cells(csvfile.write([["note"], [value]]))[1][0]
    assert written == "'" + value


@pytest.mark.parametrize("value", [0, 12, -5, 3.5, -12.5, "-12.5", "+86", "1200050", "", "工地拖欠工资", "a=b", None])
def test_numbers_and_ordinary_text_stay_as_they_are(value):
    written = cells(csvfile.write([["value"], [value]]))[1][0]
    assert written == ("" if value is None else str(value))


@pytest.mark.parametrize("value", FORMULAS)
def test_what_was_written_reads_back_as_typed(value):
    [(line, row)] = csvfile.read(csvfile.write([["note"], [value]]).encode(), ["note"])
    assert line == 2 and row["note"] == value


def test_a_station_manager_s_formula_reaches_the_export_as_text_and_imports_back(ctx):
    station_files.import_rows(station_files.read_csv(station_csv(*STATION_ROWS)), None, NOW)
    first = station_files.export_csv()
    station = stations.page(1, 1)[0][0]
    station.holiday_note = "=HYPERLINK(\"http://evil.example\",\"春节照常开放\")"
    db.session.commit()
    exported = station_files.export_csv()
    assert exported != first
    rows = list(csv.DictReader(io.StringIO(exported.lstrip(csvfile.BOM))))
    assert rows[0]["holiday_note"].startswith("'=HYPERLINK(")
    assert rows[0]["lat"] == "23.1353" and rows[0]["lng"] == "113.334"  # numbers stay numbers
    again = station_files.import_rows(station_files.read_csv(exported.encode()), None, NOW)
    assert again.ok and again.unchanged == 2
