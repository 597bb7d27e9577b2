"""The input layer's parsers (portal.inputs.parse) and body readers: each value from outside is read once, by
rules that know where it goes, and a refusal names the field. The request-level tests run on SQLite and
PostgreSQL alike (PORTAL_TEST_DATABASE_URL), where a NUL or an out-of-range integer would otherwise be a 500."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.exceptions import InvalidInput
from portal.extensions import db
from portal.inputs import parse
from portal.models import Ticket
from portal.services import open311
from tests.conftest import NOW


def refusal(call, *args, **kwargs) -> dict:
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return {name: str(message) for name, message in caught.value.fields.items()}


# -------------------------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(("raw", "value"), [("12", 12), (" 7 ", 7), ("-3", -3), ("+5", 5), ("0", 0),
                                            (str(parse.INT32_MAX), parse.INT32_MAX), ("", None), (None, None)])
def test_whole_reads_ascii_digits(raw, value):
    assert parse.whole(raw, "n") == value


@pytest.mark.parametrize("raw", ["²", "١٢٣", "１２", "1.0", "1e3", "0x10", "1_000", "12a", "- 1", "٣"])
def test_whole_refuses_what_int_would_read_or_is_not_whole(raw):
    assert refusal(parse.whole, raw, "page") == {"page": "Must be a whole number."}


@pytest.mark.parametrize("raw", [str(2**31), str(-(2**31) - 1), "99999999999999999999", "9" * 21])
def test_whole_refuses_what_no_integer_column_holds(raw):
    assert "page" in refusal(parse.whole, raw, "page")


def test_whole_keeps_to_the_given_range_and_names_it():
    assert parse.whole("30", "days", 1, 30) == 30
    assert refusal(parse.whole, "31", "days", 1, 30) == {"days": "A whole number from 1 to 30."}
    assert refusal(parse.whole, "", "days", 1, 30, required=True) == {"days": "Required."}


@pytest.mark.parametrize("raw", ["NaN", "nan", "Infinity", "-inf", "1e400", "١٢", "12,5", "--1", ".", "1e"])
def test_number_is_finite_and_ascii(raw):
    assert refusal(parse.number, raw, "lat", -90, 90) == {"lat": "Must be a number."}


def test_number_reads_decimals_and_keeps_to_its_range():
    assert parse.number("23.125", "lat", -90, 90) == 23.125
    assert parse.number("-.5", "lat", -90, 90) == -0.5
    assert parse.number("1e1", "lat", -90, 90) == 10.0
    assert refusal(parse.number, "90.0001", "lat", -90, 90) == {"lat": "Must be between -90 and 90."}


# -------------------------------------------------------------------------------------------- dates

@pytest.mark.parametrize(("raw", "value"), [("2026-11-01", date(2026, 11, 1)), ("2026/11/01", date(2026, 11, 1)),
                                            ("1900-01-01", date(1900, 1, 1)), ("2100-12-31", date(2100, 12, 31))])
def test_day_reads_dates_of_two_centuries(raw, value):
    assert parse.day(raw, "first") == value


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01", "2026-02-30",
                                 "２０２６-11-01", "20261101", "2026-11-01T00:00", "yesterday"])
def test_day_refuses_the_rest(raw):
    assert list(refusal(parse.day, raw, "first")) == ["first"]


def test_moment_is_aware_and_in_utc():
    assert parse.moment("2026-11-20T10:00:00+08:00", "start") == datetime(2026, 11, 20, 2, tzinfo=UTC)
    assert parse.moment("2026-11-20T02:00:00Z", "start") == datetime(2026, 11, 20, 2, tzinfo=UTC)
    assert parse.moment("2026-11-20T02:00", "start") == datetime(2026, 11, 20, 2, tzinfo=UTC)  # naive: UTC


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "2026-13-01T00:00Z",
                                 "2026-11-20", "2026-11-20T25:00Z", "2026-11-20T10:00+99:00"])
def test_moment_refuses_what_would_overflow_or_is_not_a_moment(raw):
    assert list(refusal(parse.moment, raw, "start_date")) == ["start_date"]


# -------------------------------------------------------------------------------------------- text

def test_text_is_nfc_stripped_and_limited():
    decomposed = "Cafe\u0301 工资"
    assert parse.text(f"  {decomposed} ", "name", 20) == "Café 工资"
    assert refusal(parse.text, "x" * 21, "name", 20) == {"name": "Use at most 20 characters."}
    assert refusal(parse.text, "  ", "name", 20, required=True) == {"name": "Required."}


@pytest.mark.parametrize("raw", ["a\x00b", "\ud800", "x\udfffy"])
def test_text_refuses_what_no_database_keeps(raw):
    assert list(refusal(parse.text, raw, "description", 100)) == ["description"]


@pytest.mark.parametrize("raw", [["a"], {"a": 1}, 12, True])
def test_text_refuses_what_is_not_text(raw):
    assert refusal(parse.text, raw, "description", 100) == {"description": "Must be text."}


# -------------------------------------------------------------------------------------------- JSON

def test_json_object_reads_an_object():
    assert parse.json_object(b'{"a": [1, {"b": "\\u5de5"}], "c": null}') == {"a": [1, {"b": "工"}], "c": None}


@pytest.mark.parametrize("data", [b"[]", b'"text"', b"12", b"null", b"", b"{", b'{"a": NaN}', b'{"a": Infinity}',
                                  b'{"a": 1, "a": 2}', b"\xff\xfe{}", b'{"a": 1} x'])
def test_json_object_refuses_other_values(data):
    with pytest.raises(InvalidInput):
        parse.json_object(data)


def test_json_nesting_is_counted_before_parsing_and_brackets_in_strings_do_not_count():
    assert parse.json_object(("{\"a\":" + "[" * 31 + "]" * 31 + "}").encode())
    with pytest.raises(InvalidInput) as caught:
        parse.json_object(("{\"a\":" + "[" * 32 + "]" * 32 + "}").encode())
    assert "32" in str(caught.value.message)
    with pytest.raises(InvalidInput):  # a few thousand deep: Python's parser would exhaust its stack
        parse.json_object(b"{\"a\":" + b"[" * 5000 + b"]" * 5000 + b"}")
    assert parse.json_object(json.dumps({"a": "[" * 100 + '\\"{'}).encode()) == {"a": "[" * 100 + '\\"{'}


def test_json_strings_with_nul_or_a_lone_surrogate_are_refused_naming_the_field():
    with pytest.raises(InvalidInput) as caught:
        parse.json_object(b'{"token": "\\ud800"}')
    assert list(caught.value.fields) == ["token"]
    with pytest.raises(InvalidInput) as caught:
        parse.json_object(b'{"a": {"b": ["ok", "x\\u0000"]}}')
    assert list(caught.value.fields) == ["a.b[1]"]


def test_json_fields_have_their_types():
    fields = {"bill_fen": 100, "flag": True, "real": 1.0, "text": "100", "list": ["a"]}
    assert parse.field_whole(fields, "bill_fen", 1, 1000) == 100
    for name in ("flag", "real", "text", "list"):
        assert list(refusal(parse.field_whole, fields, name, 1, 1000)) == [name]
    assert parse.field_text({"code": " A1 "}, "code", 10) == "A1"
    assert refusal(parse.field_text, fields, "list", 10) == {"list": "Must be text."}


# -------------------------------------------------------------------------------------------- requests

@pytest.fixture
def channel_key(app):
    with app.app_context():
        key = open311.create_channel("mini-program", NOW)[1]
        db.session.remove()
        return key


def tickets_count(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Ticket))
        db.session.remove()
        return n


def chunked(client, path: str, data: bytes, **headers):
    """A body sent chunked, as a WSGI server hands it on: no Content-Length, the stream marked as ending."""
    return client.post(path, input_stream=io.BytesIO(data), headers={"Transfer-Encoding": "chunked",
                                                                                   **headers},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_body_past_the_tills_limit_is_413(client, make_merchant):
    key = make_merchant("catering").key
    big = json.dumps({"token": "x" * 10_000}).encode()
    response = chunked(client, "/api/v1/members/verify", big, **{"Content-Type": "application/json",
                                                                  "X-API-Key": key})
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413


def test_a_chunked_open311_body_past_its_limit_is_413_and_stores_nothing(app, client, channel_key):
    data = f"api_key={channel_key}&service_code=labour.wages&description={'x' * 70_000}".encode()
    response = chunked(client, "/open311/v2/requests.json", data,
                       **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json[0]["code"] == 413
    assert tickets_count(app) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"description": ["工资", "两个月"]}, "description"),
    ({"description": {"text": "工资"}}, "description"),
    ({"first_name": "李\x00"}, "first_name"),
    ({"lat": [23.1], "long": 113.2}, "lat"),
    ({"attribute[kind]": True}, "attribute[kind]"),
])
def test_open311_json_values_that_are_not_text_are_refused_not_stored_as_python_text(app, client, channel_key,
                                                                                    body, field):
    fields = {"api_key": channel_key, "service_code": "labour.wages", "description": "工地拖欠工资两个月。",
              "address_id": "440106006"} | body
    response = client.post("/open311/v2/requests.json", json=fields, headers={"X-API-Key": channel_key})
    assert response.status_code == 400, response.json
    assert any(e["description"].startswith(f"{field}:") for e in response.json), response.json
    assert tickets_count(app) == 0


def test_open311_takes_json_numbers_for_coordinates(app, client, channel_key):
    response = client.post("/open311/v2/requests.json", headers={"X-API-Key": channel_key}, json={
        "service_code": "labour.wages", "description": "工地拖欠工资两个月。", "lat": 23.13, "long": 113.26})
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("query", ["start_date=0001-01-01T00:00:00%2B08:00", "end_date=9999-12-31T23:59:59-08:00",
                                   "page=%C2%B2", "page_size=%D9%A1%D9%A2", "page=99999999999999999999"])
def test_open311_search_refuses_out_of_range_dates_and_unicode_digits(client, query):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    assert response.json[0]["code"] == 400


@pytest.mark.parametrize("body", ['{"token": "\\ud800"}', '{"code": "\\u0000"}', '{"code": ["A"]}',
                                  "[" * 2000 + "]" * 2000, '{"code": "A", "code": "B"}'])
def test_the_till_refuses_hostile_json_with_400(client, make_merchant, body):
    key = make_merchant("catering").key
    response = client.post("/api/v1/members/verify", data=body, headers={"Content-Type": "application/json",
                                                                         "X-API-Key": key})
    assert response.status_code == 400, response.json
    assert response.json["error"]["status"] == 400


@pytest.mark.parametrize(("query", "field"), [("lat=%D9%A2%D9%A3&lng=113.2", "lat"), ("lat=23.1&lng=1e400", "lng"),
                                              ("lat=23.1&lng=113.2&limit=%C2%B2", "limit"),
                                              ("lat=23.1&lng=113.2&radius_m=NaN", "radius_m")])
def test_the_stations_api_reads_its_query_through_the_same_parsers(client, query, field):
    response = client.get(f"/api/v1/stations/nearby?{query}")
    assert response.status_code == 400
    assert list(response.json["error"]["fields"]) == [field]
