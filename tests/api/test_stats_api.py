"""GET /api/v1/stats/public: the big screen's public figures as JSON. Counts below 5 are "<5", rates need 5
cases, and no personal data ever: no key called name, phone, employer or description, and none of the seeded
names, numbers, employers, texts or file names anywhere in the body (SECURITY.md row 22). Bad input is a JSON
400 or 404 with a human message, in Chinese unless English is asked for.

The API reads the application's clock, which the `clock` fixture holds at NOW: the data is made at NOW and read
over a range of days that holds it. The live server keeps the real clock: its test makes its data at the server's
time (tests/api/conftest.py: live_portal).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Channel, Kind, Role, User
from portal.services import evidence, ledger, sla, stats, tickets
from tests.api.conftest import conforms
from tests.conftest import login
from tests.factories import NOW, PDF
from tests.live import Client, at_once

URL = "/api/v1/stats/public"
EN = {"Accept-Language": "en"}
# What the seeded requests hold that must never come out.
PERSONAL = {"names": ("王小明", "李四海", "赵静怡"), "phones": ("13912345678", "13800138000", "13700007777"),
            "employers": ("深圳市某某电子厂", "广州某某建筑劳务公司"), "files": ("工资条.pdf",)}
SHENZHEN_TEXT = "在深圳市某某电子厂的工地摔伤，公司不给认定工伤，也不给报销医药费。"
GUANGZHOU_TEXT = "广州某某建筑劳务公司拖欠我们三个月工资，包工头王小明电话打不通。"


def around_now() -> str:
    """A range from the day before yesterday to today: it holds what was made at NOW."""
    today = sla.local_date(NOW)
    return f"period=range&first={today - timedelta(days=2)}&last={today}"


@pytest.fixture
def seeded(app, make_user):
    """Four requests in Guangzhou (three answered, three recovering wages) and six in Shenzhen (five answered and
    recovering wages), with names, phones, employers and a file; a hotline call in Shenzhen that became one."""
    province_id = make_user(Role.STAFF, region="44", name="赵静怡", phone="13700007777").id
    shenzhen_id = make_user(Role.STAFF, region="4403").id
    with app.app_context():
        province, shenzhen = db.session.get(User, province_id), db.session.get(User, shenzhen_id)
        made = []
        for n in range(4):
            made.append(tickets.submit(tickets.Submission(
                kind=Kind.APPEAL, category="labour.wages", description=GUANGZHOU_TEXT, place_code="440106006",
                employer=PERSONAL["employers"][1], anonymous=False, contact_name="王小明",
                contact_phone="13912345678", amount_owed_fen=3_000_000), token=f"gz-{n}", now=NOW,
                uploads=[evidence.Upload("工资条.pdf", PDF)]).ticket)
        for n in range(5):
            made.append(tickets.submit(tickets.Submission(
                kind=Kind.APPEAL, category="security.injury", description=SHENZHEN_TEXT, place_code="440304",
                channel=Channel.QR, employer=PERSONAL["employers"][0]), token=f"sz-{n}", now=NOW).ticket)
        call = ledger.Contact(channel=Channel.HOTLINE, kind=Kind.APPEAL, category="security.injury",
                              summary=SHENZHEN_TEXT, to_ticket=True, place_code="440304", caller_name="李四海",
                              caller_phone="13800138000")
        made.append(ledger.log(shenzhen, call, "call-1", NOW).receipt.ticket)
        for ticket in made[:3] + made[4:9]:
            tickets.take("accept", ticket, province, NOW)
            tickets.take("reply", ticket, province, NOW, text="已联系用人单位，工资已追回。", recovered_fen=100_000)
        stats.forget_cache()
        db.session.remove()


def get(client, query: str = "", **headers):
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.is_json, response.get_data(as_text=True)
    return conforms(response)


# -------------------------------------------------------------------------------------------- the figures

def test_the_figures_of_the_province_by_default_this_month(client, seeded):
    response = get(client)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"region", "period", "contacts", "tickets", "rates", "overdue_now", "recovered_yuan", "today",
                         "ranking", "categories", "hot_words", "stations", "benefits"}
    assert body["region"] == {"code": "44", "label": "广东省"}
    period = body["period"]
    assert period["code"] == "month" and period["first"] == period["last"][:8] + "01"
    assert set(body["contacts"]) == {"hotline", "mailbox", "visit", "web", "qr", "api", "total"}
    assert set(body["tickets"]) == {"created", "dispatched", "in_progress", "replied", "closed"}
    assert len(body["ranking"]) == 21 and {"4401", "4403", "4419"} <= {city["code"] for city in body["ranking"]}
    assert {"code", "label", "tickets"} == set(body["ranking"][0])
    assert response.headers["Cache-Control"] == "public, max-age=5"
    assert "Accept-Language" in response.headers["Vary"]
    assert response.headers["X-RateLimit-Limit"] == "300"  # the api blueprint's limit per address


def test_counts_below_five_are_shown_as_less_than_five(client, seeded):
    province = get(client, around_now()).get_json()
    # 8 answered of 10 with "<5" in progress and closed would tell those two add up to 2: the 8 is withheld too
    assert province["tickets"] == {"created": 10, "dispatched": "<5", "in_progress": "<5", "replied": "withheld",
                                   "closed": "<5"}
    assert province["contacts"] == {"hotline": "<5", "mailbox": "<5", "visit": "<5", "web": "<5", "qr": 5, "api": "<5",
                                    "total": 10}
    # 8 of 10 resolved would tell that 2 are not: no rate; all 8 answers in time tells no small count
    assert province["rates"] == {"resolution": None, "on_time": 1.0, "satisfaction": None}  # nobody rated yet
    assert province["recovered_yuan"] == 8000.0 and province["overdue_now"] == "<5"
    shenzhen, guangzhou = (get(client, f"region={code}&{around_now()}").get_json() for code in ("4403", "4401"))
    assert shenzhen["region"] == {"code": "4403", "label": "深圳市"}
    assert shenzhen["tickets"]["created"] == 6 and shenzhen["tickets"]["replied"] == "withheld"  # 6 - 5 = 1
    assert shenzhen["rates"] == {"resolution": None, "on_time": 1.0, "satisfaction": None}  # 5 of 6: 1 is not
    assert shenzhen["recovered_yuan"] == 5000.0
    assert guangzhou["tickets"] == {"created": "<5", "dispatched": "<5", "in_progress": "<5", "replied": "<5",
                                    "closed": "<5"}
    assert guangzhou["contacts"]["total"] == "<5" and guangzhou["contacts"]["web"] == "<5"
    assert guangzhou["rates"] == {"resolution": None, "on_time": None, "satisfaction": None}
    assert guangzhou["recovered_yuan"] is None  # three cases recovered wages: fewer than five
    ranked = {city["code"]: city["tickets"] for city in province["ranking"]}
    # Shenzhen's 6 of the province's 10 would leave 4 for the other cities, Guangzhou's "<5" among them
    assert ranked["4403"] == "withheld" and ranked["4401"] == "<5" and set(ranked.values()) == {"withheld", "<5"}
    assert [(c["code"], c["tickets"], c["share"]) for c in shenzhen["categories"]] == [("appeal", 6, 1.0)]
    assert [(c["code"], c["tickets"], c["share"]) for c in guangzhou["categories"]] == [("appeal", "<5", None)]
    assert shenzhen["hot_words"] and all(word["count"] == 6 for word in shenzhen["hot_words"])
    assert guangzhou["hot_words"] == []  # each of its words was said four times
    assert {w["word"] for w in province["hot_words"]} == {w["word"] for w in shenzhen["hot_words"]}
    futian = get(client, f"region=440304&{around_now()}").get_json()  # the requests' district, no town given
    assert futian["tickets"]["created"] == 6
    assert futian["ranking"] and all(town["tickets"] == "<5" for town in futian["ranking"])


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


@pytest.mark.parametrize("query", ["", "period=today", "region=4403", "region=440304", "region=4401",
                                   "region=440106006", "region=440106006&period=today"])
def test_no_personal_data_ever(client, seeded, query):
    for headers in ({}, EN):
        response = get(client, f"{query}&{around_now()}" if "period" not in query else query, **headers)
        assert response.status_code == 200
        assert not keys_of(response.get_json()) & {"name", "phone", "employer", "description", "contact_name",
                                                   "contact_phone", "url", "file", "files", "attachments"}
        text = response.get_data(as_text=True)
        body = json.dumps(response.get_json(), ensure_ascii=False)
        for seeded_value in [v for values in PERSONAL.values() for v in values] + [SHENZHEN_TEXT, GUANGZHOU_TEXT]:
            assert seeded_value not in body and seeded_value not in text, seeded_value
        assert not re.search(r"1[3-9]\d{9}", body)  # no mobile number at all
        assert "/staff/" not in body and "/files" not in body and "attachment" not in body


# ------------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("query", "field", "message"), [
    ("period=week", "period", "Choose today, this month or a range of dates."),
    ("period=range", "first", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=2026-13-01&last=2026-11-02", "first", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=2026-11-01&last=%00", "first", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=" + "9" * 3000 + "&last=2026-11-02", "first", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=2026-11-10&last=2026-11-09", "last", "The last day must not be before the first."),
    ("period=range&first=1999-01-01&last=1999-01-02", "first", "Choose dates between 2000-01-01 and today."),
    ("period=range&first=YEAR_AGO&last=TODAY", "last", "Choose at most 366 days."),
    ("period=range&first=2026-01-01&last=TOMORROW", "first", "Choose dates between 2000-01-01 and today."),
])
def test_a_bad_period_is_a_400_naming_the_field(client, query, field, message):
    today = sla.local_date(NOW)
    days = {"TOMORROW": today + timedelta(days=1), "TODAY": today, "YEAR_AGO": today - timedelta(days=366)}
    for placeholder, day in days.items():
        query = query.replace(placeholder, day.isoformat())
    response = get(client, query, **EN)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["request_id"]
    assert error["message"] == "Some of the information given is not valid."
    assert error["fields"] == {field: message}
    assert "Traceback" not in response.get_data(as_text=True)
    assert "public" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("region", ["4499", "11", "110101", "441900", "440106999", "x" * 300, "%00", "44%25",
                                    "../44"])
def test_an_unknown_region_is_a_404(client, region):
    response = get(client, f"region={region}", **EN)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "We could not find that page."


def test_messages_are_in_chinese_unless_english_is_asked_for(client, seeded):
    bad = get(client, "period=week").get_json()["error"]
    assert bad["message"] == "填写的部分信息不正确。" and set(bad["fields"]) == {"period"}
    assert get(client, "region=4499").get_json()["error"]["message"] == "找不到这个页面。"
    assert get(client, "region=4499", **EN).get_json()["error"]["message"] == "We could not find that page."
    labels = {lang: get(client, around_now(), **{"Accept-Language": lang}).get_json()["categories"][0]["label"]
              for lang in ("zh-CN", "en")}
    assert labels == {"zh-CN": "申诉投诉", "en": "Appeal or complaint"}


def test_a_signed_in_visitor_gets_the_same_figures_but_nothing_cached(app, client, make_user, seeded):
    anonymous = get(client, around_now()).get_json()
    staff = make_user(Role.STAFF, region="4401")
    signed_in = app.test_client()
    assert login(signed_in, staff.phone).status_code == 303
    response = get(signed_in, around_now())
    assert response.get_json() == anonymous  # public means public: the same province figures for staff
    assert response.headers["Cache-Control"] == "private, no-store"


# ------------------------------------------------------------------------- concurrent writers, live server

FORM_FIELDS = re.compile(r'id="token" name="token" type="hidden" value="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_forty_grievances_at_once_keep_the_rollups_equal_to_a_rebuild(app, live_portal, clock):
    """Forty workers send the form at the same moment to 4 processes × 4 threads: every rollup upsert lands
    (no lost update, no deadlock), so the cells equal a recomputation and the province counts 40 new requests."""
    workers = [Client(live_portal) for _ in range(40)]
    forms = []
    for worker in workers:
        status, _, html = worker.send("GET", "/grievances/")
        assert status == 200
        forms.append({"token": FORM_FIELDS.search(html).group(1), "csrf_token": CSRF_FIELD.search(html).group(1)})
    places = [("4401", "440106", "440106006"), ("4401", "440104", ""), ("4403", "440304", ""),
              ("4419", "441900003", "")]  # Dongguan's towns sit in the picker's second list

    def send(n: int, barrier) -> int:
        city, district, town = places[n % len(places)]
        form = forms[n] | {"kind": "appeal", "category": "labour.wages", "city": city, "district": district,
                           "town": town, "description": f"老板拖欠我们三个月工资，第{n}号。", "consent": "y",
                           "anonymous": "y"}
        conn = workers[n].connect()
        barrier.wait()
        status, _, _ = workers[n].send("POST", "/grievances/", form=form, conn=conn)
        return status

    assert at_once(40, send) == [200] * 40
    with app.app_context():
        kept = stats.all_cells()
        created = Counter()
        for (region, measure, _, _), n in kept.items():
            created[region] += n if measure == "created" else 0
        assert (created["44"], created["4401"], created["440106006"], created["4419"], created["441900003"]) == (
            40, 20, 10, 10, 10)
        stats.rebuild(clock.now())  # the server's time: live_portal set the clock to it
        assert stats.all_cells() == kept
        db.session.remove()
