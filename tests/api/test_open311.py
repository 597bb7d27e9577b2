"""Open311 GeoReport v2 for partner channels."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ApiChannel, Channel, Ticket
from portal.services import open311
from tests.api.conftest import conforms
from tests.conftest import NOW

BASE = "/open311/v2"


@pytest.fixture
def keys(app):
    with app.app_context():
        made = {name: open311.create_channel(name, NOW)[1] for name in ("mini-program", "hotline")}
        db.session.remove()
        return made


def post(client, key, **fields):
    data = {"service_code": "labour.wages", "description": "工地拖欠工资两个月。", "address_id": "440106006",
            "attribute[kind]": "appeal"} | fields
    if key is not None:
        data["api_key"] = key
    return conforms(client.post(f"{BASE}/requests.json", data=data))


def tickets_count(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Ticket))
        db.session.remove()
        return n


def test_discovery_and_services(client):
    assert conforms(client.get(f"{BASE}/discovery.json")).json["endpoints"][0]["url"].endswith("/open311/v2/")
    services = conforms(client.get(f"{BASE}/services.json")).json
    codes = {s["service_code"] for s in services}
    assert {"labour.wages", "security.injury", "support.psychological"} <= codes
    one = conforms(client.get(f"{BASE}/services/labour.wages.json", headers={"Accept-Language": "zh-CN"})).json
    assert one["service_name"] == "追索劳动报酬（欠薪）" and one["metadata"] is False and one["type"] == "realtime"
    missing = conforms(client.get(f"{BASE}/services/nope.json"))
    assert missing.status_code == 404 and missing.json[0]["code"] == 404


@pytest.mark.parametrize("key", [None, "", "wrong-key", "x" * 500])
def test_posting_needs_a_channel_key(app, client, keys, key):
    response = post(client, key)
    assert response.status_code == 403 and response.json[0]["code"] == 403
    assert tickets_count(app) == 0


def test_a_disabled_channel_is_refused(app, client, keys):
    with app.app_context():
        db.session.query(ApiChannel).update({"active": False})
        db.session.commit()
        db.session.remove()
    assert post(client, keys["hotline"]).status_code == 403


def test_a_channel_submits_and_gets_a_number_and_a_query_code(app, client, keys):
    response = post(client, keys["mini-program"], first_name="王", last_name="师傅", phone="13800000000")
    assert response.status_code == 201
    body = response.json[0]
    assert body["service_request_id"].startswith("44-") and len(body["query_code"]) == 19
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.channel is Channel.API and ticket.contact_name == "王 师傅" and not ticket.anonymous
        db.session.remove()


def test_json_bodies_and_coordinates_work_too(app, client, keys):
    body = {"service_code": "security.injury", "description": "摔伤", "lat": 23.1273, "long": 113.3561}
    response = conforms(client.post(f"{BASE}/requests.json", headers={"X-API-Key": keys["hotline"]}, json=body))
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Ticket.place_code)) == "440106"  # nearest district centre: 天河区
        db.session.remove()


@pytest.mark.parametrize(("fields", "field"), [
    ({"service_code": "nope"}, "category"), ({"description": ""}, "description"),
    ({"description": "字" * 4001}, "description"), ({"address_id": "", "lat": "", "long": ""}, "address_id"),
    ({"address_id": "", "lat": "NaN", "long": "113"}, "lat"),
    ({"address_id": "", "lat": "Infinity", "long": "1"}, "lat"),
    ({"address_id": "", "lat": "91", "long": "113"}, "lat"), ({"address_id": "", "lat": "abc", "long": "113"}, "lat"),
    ({"address_id": "", "lat": "23"}, "lat"), ({"address_id": "110101"}, "place"),
    ({"attribute[kind]": "bribe"}, "attribute[kind]"), ({"phone": "12345"}, "contact_phone"),
])
def test_bad_requests_get_a_400_in_the_specs_error_form_and_store_nothing(app, client, keys, fields, field):
    response = post(client, keys["hotline"], **fields)
    assert response.status_code == 400
    assert all(set(e) == {"code", "description"} and e["code"] == 400 for e in response.json)
    assert any(e["description"].startswith(field) for e in response.json), response.json
    assert tickets_count(app) == 0


def test_an_idempotency_key_makes_retries_return_the_first_request(app, client, keys):
    headers = {"Idempotency-Key": "order-42"}
    first = conforms(client.post(f"{BASE}/requests.json", headers=headers,
                                 data={"api_key": keys["hotline"], "service_code": "labour.wages",
                                       "description": "欠薪", "address_id": "440106"}))
    again = conforms(client.post(f"{BASE}/requests.json", headers=headers,
                                 data={"api_key": keys["hotline"], "service_code": "labour.wages",
                                       "description": "欠薪", "address_id": "440106"}))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    other = conforms(client.post(f"{BASE}/requests.json", headers=headers,
                                 data={"api_key": keys["mini-program"], "service_code": "labour.wages",
                                       "description": "欠薪", "address_id": "440106"}))
    assert other.status_code == 201 and other.json[0]["service_request_id"] != first.json[0]["service_request_id"]


def test_ten_simultaneous_retries_make_one_request(app, keys):
    numbers, barrier = [], threading.Barrier(10)

    def send():
        client = app.test_client()
        barrier.wait(timeout=30)
        response = conforms(client.post(f"{BASE}/requests.json", headers={"Idempotency-Key": "same"},
                                        data={"api_key": keys["hotline"], "service_code": "labour.wages",
                                              "description": "欠薪", "address_id": "440106"}))
        numbers.append((response.status_code, response.json[0]["service_request_id"]))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(numbers) == 10 and len({n for _, n in numbers}) == 1
    assert sorted(s for s, _ in numbers) == [200] * 9 + [201]
    assert tickets_count(app) == 1


def test_only_the_submitting_channel_reads_the_details(app, client, keys):
    number = post(client, keys["mini-program"], lat="23.12", long="113.35", phone="13800000000").json[0][
        "service_request_id"]
    public = conforms(client.get(f"{BASE}/requests/{number}.json")).json[0]
    other = conforms(client.get(f"{BASE}/requests/{number}.json", headers={"X-API-Key": keys["hotline"]})).json[0]
    owner = conforms(client.get(f"{BASE}/requests/{number}.json",
                                query_string={"api_key": keys["mini-program"]})).json[0]
    for view in (public, other):
        assert view["description"] is None and view["lat"] is None and view["long"] is None
        assert view["address_id"] == "440106" and view["address"] == "广东省 广州市 天河区"
        assert "13800000000" not in str(view)
    assert owner["description"] == "工地拖欠工资两个月。" and owner["address_id"] == "440106006"
    assert owner["lat"] == 23.12
    assert public["status"] == "open" and public["agency_responsible"] == "广东省总工会"
    assert public["expected_datetime"].endswith("Z") and public["requested_datetime"].endswith("Z")
    assert conforms(client.get(f"{BASE}/requests/44-20000101-0001.json")).status_code == 404


def test_search_filters_and_pages(app, client, keys):
    for n in range(5):
        post(client, keys["hotline"], service_code="labour.wages" if n % 2 else "security.injury")
    everything = conforms(client.get(f"{BASE}/requests.json")).json
    assert len(everything) == 5
    assert len(conforms(client.get(f"{BASE}/requests.json?service_code=labour.wages")).json) == 2
    assert len(conforms(client.get(f"{BASE}/requests.json?status=open")).json) == 5
    assert conforms(client.get(f"{BASE}/requests.json?status=closed")).json == []
    numbers = ",".join(r["service_request_id"] for r in everything[:2])
    assert len(conforms(client.get(f"{BASE}/requests.json?service_request_id={numbers}")).json) == 2
    assert len(conforms(client.get(f"{BASE}/requests.json?page_size=2&page=3")).json) == 1
    long_ago = "start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z"
    assert conforms(client.get(f"{BASE}/requests.json?{long_ago}")).json == []


@pytest.mark.parametrize("query", ["page_size=0", "page_size=101", "page=abc", "status=maybe", "service_code=x",
                                   "start_date=yesterday", "end_date=2026-13-45"])
def test_bad_search_parameters_are_400(client, query):
    response = conforms(client.get(f"{BASE}/requests.json?{query}"))
    assert response.status_code == 400 and response.json[0]["code"] == 400


@pytest.mark.parametrize("ids", ["44-%00", "44-20261120-0001,%00", "44-1," * 700])
def test_ids_a_database_cannot_compare_are_a_400_not_a_500(client, ids):
    """Found probing the contract (issue 13): a NUL among the ids searched for reached PostgreSQL, which refuses it
    in any text (a 500); now the ids are read as text like every other value, and an overlong list is refused."""
    response = conforms(client.get(f"{BASE}/requests.json?service_request_id={ids}", headers={"Accept-Language": "en"}))
    assert response.status_code == 400
    assert any(e["description"].startswith("service_request_id: ") for e in response.json), response.json


@pytest.mark.parametrize(("method", "path"), [("GET", "/discovery.json"), ("GET", "/services.json"),
                                            ("GET", "/services/labour.wages.json"), ("GET", "/requests.json"),
                                            ("GET", "/requests/44-20000101-0001.json"), ("POST", "/requests.json")])
def test_a_body_past_64_kib_is_a_413_on_every_route(client, keys, method, path):
    """Every GeoReport route reads at most 64 KiB of body, whatever its method (the document says so for each)."""
    response = conforms(client.open(f"{BASE}{path}", method=method, data={"description": "x" * 70_000},
                                    headers={"X-API-Key": keys["hotline"]}))
    assert response.status_code == 413 and response.json[0]["code"] == 413


def test_the_cli_registers_channels(app, runner):
    result = runner.invoke(args=["apikeys", "create", "某区 12351 热线系统"])
    assert result.exit_code == 0
    key = result.output.strip().rsplit(" ", 1)[-1]
    with app.app_context():
        assert open311.channel_for_key(key).name == "某区 12351 热线系统"
        assert key not in str(db.session.scalar(select(ApiChannel.key_hash)))
        db.session.remove()
    assert runner.invoke(args=["apikeys", "create", "某区 12351 热线系统"]).exit_code != 0
