"""Rest stations through HTTP: the finder with and without htmx, a station's page, QR link and poster, and
station managers editing their own stations only."""

from __future__ import annotations

import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, Station, StationChange, StationReport
from portal.services import geocode, stations
from tests.conftest import csrf_token, login
from tests.factories import STATION_ROWS, station_csv


def test_the_finder_works_without_javascript_from_a_chosen_place(client, make_station):
    near = make_station(name="石牌驿站", facilities=("water", "microwave"))
    make_station(name="深圳驿站", lat=22.54, lng=114.06, region="440304")
    html = client.get("/stations/?city=4401&district=440106").get_data(as_text=True)
    assert "石牌驿站" in html and "深圳驿站" not in html and f'href="/stations/{near}"' in html
    # from a chosen place the distance is the place's centre, not the rider's walk
    assert "距天河区中心约" in html and "分钟" not in html and "正在开放" in html and "微波炉" in html
    assert "石牌驿站" not in client.get("/stations/?city=4401&district=440106&f=fridge").get_data(as_text=True)


SUNDAY_MORNINGS = {"sun": [["08:00", "11:30"]]}


def test_open_now_is_on_by_default_and_a_tap_can_turn_it_off(client, make_station):
    """A link without `open` (the first visit, a shared link, an old bookmark) shows open stations only; the
    form's hidden open=n alone (the box cleared) shows every station, each closed one saying when it opens."""
    make_station(name="全天驿站")
    make_station(name="周末驿站", hours=SUNDAY_MORNINGS)  # closed on Friday 10:00, the test clock
    point = "/stations/?lat=23.1353&lng=113.3340"
    default = client.get(point).get_data(as_text=True)
    assert "全天驿站" in default and "周末驿站" not in default
    assert 'name="open" value="y" checked' in default and "筛选 · <span id=\"filters-on\">已选 1 项" in default
    assert "周末驿站" not in client.get(point + "&open=n&open=y").get_data(as_text=True)
    everything = client.get(point + "&open=n").get_data(as_text=True)
    assert "全天驿站" in everything and "周末驿站" in everything and "筛选 · <span id=\"filters-on\">未选" in everything
    assert "星期日 08:00 开放" in everything  # Friday 10:00: the next opening, two days ahead, by its weekday
    assert "您的位置" in everything and "分钟" in everything  # the phone's point: minutes on foot, no centre
    filtered = client.get(point + "&open=n&open=y&f=water&f=seats&radius=10000").get_data(as_text=True)
    assert "已选 4 项" in filtered


def test_each_result_goes_straight_to_the_map_apps(client, make_station):
    make_station(name="石牌驿站")
    html = client.get("/stations/?lat=23.1353&lng=113.3340").get_data(as_text=True)
    item = html[html.index('class="station-list"'):]
    assert re.search(r'<a class="button button-secondary go-there" href="https://uri\.amap\.com/navigation\?[^"]*'
                     r'mode=walk', item)


def test_a_closed_stations_page_says_when_it_opens(app, client, make_station, clock):
    station_id = make_station(name="周末驿站", hours=SUNDAY_MORNINGS)
    assert "星期日 08:00 开放" in client.get(f"/stations/{station_id}").get_data(as_text=True)
    with app.app_context():  # a temporary closure until Sunday 09:00, inside the morning period
        station = db.session.get(Station, station_id)
        station.closed_until = clock.now() + stations.timedelta(hours=47)
        db.session.commit()
    assert "星期日 09:00 开放" in client.get(f"/stations/{station_id}").get_data(as_text=True)


def test_equal_days_collapse_into_one_line_on_the_station_page(client, make_station):
    split = [["07:00", "11:30"], ["13:30", "21:00"]]
    html = client.get(f"/stations/{make_station(hours=dict.fromkeys(stations.WEEKDAYS, split))}").get_data(as_text=True)
    assert "<dt>每天</dt>" in html and html.count("07:00–11:30, 13:30–21:00") == 1 and "星期一" not in html
    weekdays = {d: [["08:30", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    html = client.get(f"/stations/{make_station(hours=weekdays)}").get_data(as_text=True)
    assert "星期一至星期五" in html and "星期六至星期日" in html and "全天不开放" in html


def test_the_filter_count_follows_an_htmx_change(client, make_station):
    make_station(name="石牌驿站")
    fragment = client.get("/stations/?lat=23.1353&lng=113.3340&open=n&f=water",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<span id="filters-on" hx-swap-oob="true">已选 1 项</span>' in fragment
    assert 'id="stations-results-title" tabindex="-1"' in fragment


def test_the_finder_answers_htmx_with_its_results_only(client, make_station):
    make_station(name="石牌驿站")
    fragment = client.get("/stations/?lat=23.1353&lng=113.3340&f=water",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="stations-results"') and "石牌驿站" in fragment
    assert "<html" not in fragment


def test_bad_finder_parameters_never_break_the_page(client, make_station):
    make_station()
    for query in ("lat=NaN&lng=113", "lat=91&lng=500", "f=jacuzzi", "radius=9999999", "city=%00", "lat=1e999&lng=2"):
        assert client.get(f"/stations/?{query}").status_code == 200, query


def test_the_station_page_navigates_in_each_apps_datum(client, make_station):
    station_id = make_station(name="石牌驿站", facilities=("microwave", "aed"), phone="020-12345678")
    html = client.get(f"/stations/{station_id}").get_data(as_text=True)
    assert "uri.amap.com/navigation" in html and "mode=walk" in html and "coord_type=bd09ll" in html
    assert "apis.map.qq.com" in html and "微信" in html
    assert "微波炉" in html and "AED 除颤仪" in html and "每天 24 小时开放" in html
    with client.application.app_context():
        code = db.session.get(Station, station_id).code
    assert f'href="/g/{code}"' in html
    assert client.get(f"/s/{code.lower()}").headers["Location"].endswith(f"/stations/{station_id}")
    assert client.get("/s/NOPE99").status_code == 404
    assert client.get("/stations/999999").status_code == 404


def test_the_poster_holds_a_qr_code_of_the_stations_short_link(client, make_station):
    station_id = make_station(name="石牌驿站")
    html = client.get(f"/stations/{station_id}/poster").get_data(as_text=True)
    assert '<svg class="qr"' in html and "石牌驿站" in html and "/s/" in html and "12351" in html


def test_a_grievance_from_a_stations_qr_is_placed_in_its_town(client, make_station):
    station_id = make_station()
    with client.application.app_context():
        code = db.session.get(Station, station_id).code
    html = client.get(f"/g/{code}").get_data(as_text=True)
    assert re.search(r'<option value="440106006"\s+selected', html)
    assert f'name="via" type="hidden" value="{code}"' in html


def test_visitors_say_whether_the_page_is_right(client, make_station):
    station_id = make_station()
    token = csrf_token(client, f"/stations/{station_id}")
    said_yes = client.post(f"/stations/{station_id}/report", data={"csrf_token": token, "correct": "yes"})
    assert said_yes.status_code == 303
    assert client.post(f"/stations/{station_id}/report",
                       data={"csrf_token": token, "correct": "no", "problem": " "}).status_code == 400
    assert client.post(f"/stations/{station_id}/report",
                       data={"csrf_token": token, "correct": "no", "problem": "微波炉坏了"}).status_code == 303
    assert client.post(f"/stations/{station_id}/report", data={"correct": "no", "problem": "x"}).status_code == 400
    refused = client.post(f"/stations/{station_id}/report",
                          data={"csrf_token": token, "correct": "no", "problem": "热水器\x00坏了"})
    assert refused.status_code == 422  # the page again, the text kept, the reason beside the field
    assert "热水器" in refused.get_data(as_text=True) and "无法保存的字符" in refused.get_data(as_text=True)
    with client.application.app_context():
        assert sorted(r.problem for r in db.session.scalars(select(StationReport))) == ["", "微波炉坏了"]


def _manager(app, make_user, make_station):
    manager = make_user(Role.STATION_MANAGER)
    client = app.test_client()
    assert login(client, manager.phone).status_code == 303
    return client, make_station(managers=[manager.id], name="我的驿站"), make_station(name="别人的驿站")


def test_managers_reach_only_their_own_stations(app, make_user, make_station):
    client, mine, other = _manager(app, make_user, make_station)
    assert "我的驿站" in client.get("/stations/manage/").get_data(as_text=True)
    assert "别人的驿站" not in client.get("/stations/manage/").get_data(as_text=True)
    assert client.get(f"/stations/{mine}/edit").status_code == 200
    token = csrf_token(client, f"/stations/{mine}/edit")
    assert client.get(f"/stations/{other}/edit").status_code == 404
    for path, data in ((f"/stations/{other}/facilities/wifi", {"present": "on"}), (f"/stations/{other}/confirm", {}),
                       (f"/stations/{other}/hours", {"mon": "24h"}), (f"/stations/{other}/closure", {"reason": "x"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    with app.app_context():
        assert db.session.scalar(select(StationChange.id).where(StationChange.station_id == other,
                                                                StationChange.field != "created")) is None


def test_a_facility_toggle_saves_at_once_and_can_be_undone(app, make_user, make_station):
    client, mine, _ = _manager(app, make_user, make_station)
    token = csrf_token(client, f"/stations/{mine}/edit")
    # extra fields are never read: the station, its region and its check date stay as they are
    posted = client.post(f"/stations/{mine}/facilities/microwave", headers={"HX-Request": "true"},
                         data={"csrf_token": token, "present": "on", "station_id": "1", "region_code": "4403",
                               "verified_at": "2020-01-01"})
    fragment = posted.get_data(as_text=True)
    assert posted.status_code == 200 and fragment.lstrip().startswith('<section id="stations-facilities"')
    assert "微波炉：已显示" in fragment and "撤销" in fragment
    with app.app_context():
        station = db.session.get(Station, mine)
        assert "microwave" in stations.codes_of(station.facilities) and station.region_code == "440106006"
    client.post(f"/stations/{mine}/facilities/microwave", data={"csrf_token": token, "present": "off"},
                headers={"HX-Request": "true"})
    with app.app_context():
        assert "microwave" not in stations.codes_of(db.session.get(Station, mine).facilities)
    assert client.post(f"/stations/{mine}/facilities/jacuzzi",
                       data={"csrf_token": token, "present": "on"}).status_code == 400
    assert client.post(f"/stations/{mine}/facilities/wifi", data={"present": "on"}).status_code == 400  # no CSRF
    assert "驿站站长" in client.get(f"/stations/{mine}").get_data(as_text=True)


def test_hours_and_closure_editors(app, make_user, make_station):
    client, mine, _ = _manager(app, make_user, make_station)
    token = csrf_token(client, f"/stations/{mine}/edit")
    week = {"mon": "08:00-12:00，14:00-20:00", "tue": "24h", "wed": "22:00-06:00", "thu": "", "fri": "08:00~20:00",
            "sat": "全天", "sun": "", "holiday_note": "春节休息"}
    assert client.post(f"/stations/{mine}/hours", data={"csrf_token": token, **week}).status_code == 303
    with app.app_context():
        station = db.session.get(Station, mine)
        assert station.hours["mon"] == [["08:00", "12:00"], ["14:00", "20:00"]] and station.hours["thu"] == []
        assert station.hours["wed"] == [["22:00", "06:00"]] and station.hours["sat"] == stations.ALL_DAY
    refused = client.post(f"/stations/{mine}/hours", data={"csrf_token": token, **week, "mon": "8点到20点"})
    assert refused.status_code == 422 and "08:30" in refused.get_data(as_text=True)
    assert "8点到20点" in refused.get_data(as_text=True)  # what was typed comes back
    closed = client.post(f"/stations/{mine}/closure",
                         data={"csrf_token": token, "until": "2099-01-01T10:00", "reason": "装修"})
    assert closed.status_code == 422 and "一年之内" in closed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Station, mine).closed_until is None


def test_staff_and_workers_cannot_edit_stations(app, make_user, make_station):
    station_id = make_station()
    for role in (Role.MEMBER, Role.STAFF, Role.MERCHANT):
        client = app.test_client()
        assert login(client, make_user(role).phone).status_code == 303
        assert client.get(f"/stations/{station_id}/edit").status_code == 403


def test_administrators_import_and_export_station_files(app, make_user):
    client = app.test_client()
    assert login(client, make_user(Role.ADMIN).phone).status_code == 303
    token = csrf_token(client, "/stations/admin/")

    def upload(content: bytes, name: str = "stations.csv"):
        return client.post("/stations/admin/", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")

    refused = upload(station_csv(STATION_ROWS[0], STATION_ROWS[1].replace("23.1290", "abc")))
    assert refused.status_code == 422 and "第 3 行" in refused.get_data(as_text=True)
    assert upload("名称\n".encode("gbk")).status_code == 422
    assert upload(b"{not json", "x.geojson").status_code == 422
    done = upload(station_csv(*STATION_ROWS))
    assert done.status_code == 200 and "新增 2" in done.get_data(as_text=True)
    exported = client.get("/stations/admin/stations.csv")
    assert exported.status_code == 200 and "石牌街道工会驿站" in exported.get_data(as_text=True)
    assert client.get("/stations/admin/stations.geojson").get_json()["type"] == "FeatureCollection"
    manager = app.test_client()
    assert login(manager, make_user(Role.STATION_MANAGER).phone).status_code == 303
    assert manager.get("/stations/admin/stations.csv").status_code == 403


@pytest.fixture
def nominatim():
    """A stand-in Nominatim server on 127.0.0.1 (CI reaches no real one): 天河 is found, anything else not."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            query = parse_qs(urlsplit(self.path).query)
            asked.append(query)
            found = [{"lat": "23.1353", "lon": "113.3340", "display_name": "天河区"}] if "天河" in query["q"][0] else []
            body = json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(domain=f"127.0.0.1:{server.server_address[1]}", asked=asked)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_typed_address_is_found_through_the_configured_geocoder(make_app, make_station, nominatim):
    make_station(name="石牌驿站")
    geocode._lookup.cache_clear()
    app = make_app(GEOCODER="nominatim", GEOCODER_DOMAIN=nominatim.domain, GEOCODER_SCHEME="http")
    client = app.test_client()
    found = client.get("/stations/?address=天河区石牌").get_data(as_text=True)
    assert "石牌驿站" in found and "天河区石牌附近" in found
    assert nominatim.asked[0]["countrycodes"] == ["cn"]
    missing = client.get("/stations/?address=不存在的地方")
    assert missing.status_code == 200 and "找不到这个地址" in missing.get_data(as_text=True)


def test_without_a_geocoder_the_address_field_is_not_offered(client):
    assert 'name="address"' not in client.get("/stations/").get_data(as_text=True)


def test_an_unreachable_geocoder_is_asked_again_next_time(make_app, make_station):
    make_station(name="石牌驿站")
    geocode._lookup.cache_clear()
    down = make_app(GEOCODER="nominatim", GEOCODER_DOMAIN="127.0.0.1:9", GEOCODER_SCHEME="http",
                    GEOCODER_TIMEOUT=1)
    assert "找不到这个地址" in down.test_client().get("/stations/?address=天河区石牌").get_data(as_text=True)
    assert geocode._lookup.cache_info().currsize == 0
