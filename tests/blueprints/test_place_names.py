"""Pages in English name places in English (Tianhe District, Guangzhou Federation of Trade Unions); pages in
Chinese keep the official names; station names and addresses stay as entered in either language."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.services import tickets
from tests.factories import NOW, wages

TRAIL = "/unions?city=4401&district=440106&town=440106006"


def test_the_union_finder_names_places_in_the_readers_language(client):
    en = client.get(TRAIL + "&lang=en").get_data(as_text=True)
    assert '<option value="440106" selected>Tianhe District</option>' in en
    assert '<option value="4401" selected>Guangzhou</option>' in en
    assert '<option value="440106006" selected>Shipai Subdistrict</option>' in en
    assert "Shipai Subdistrict Federation of Trade Unions" in en
    assert "Guangdong › Guangzhou › Tianhe District › Shipai Subdistrict" in en
    assert "天河区" not in en and "石牌" not in en
    zh = client.get(TRAIL + "&lang=zh").get_data(as_text=True)
    assert '<option value="440106" selected>天河区</option>' in zh and "石牌街道总工会" in zh
    assert "Tianhe" not in zh


def test_the_tracking_page_names_the_union_in_english(app, client):
    with app.app_context():
        made = tickets.submit(wages(), token="place-names", now=NOW)
        number, code = made.ticket.number, made.query_code
        db.session.remove()
    page = client.get("/track/?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/track/", data={"number": number, "code": code, "csrf_token": token}).status_code == 303
    en = client.get(f"/track/{number}").get_data(as_text=True)
    assert "Your request reached Guangdong Federation of Trade Unions." in en and "广东省" not in en
    assert re.search(r"<dt>Place</dt><dd>Shipai Subdistrict</dd>", en)  # what the worker sent, folded
    zh = client.get(f"/track/{number}?lang=zh").get_data(as_text=True)
    assert "广东省总工会" in zh and "Guangdong" not in zh


def test_station_names_stay_as_entered_while_the_place_is_english(client, make_station):
    station = make_station(name="石牌驿站")
    found = client.get("/stations/?city=4401&district=440106&lang=en").get_data(as_text=True)
    assert "石牌驿站" in found and f'href="/stations/{station}"' in found
    assert "from the centre of Tianhe District" in found  # the place chosen, in English
    assert '<option value="440106" selected>Tianhe District</option>' in found
    assert "天河区测试路1号" in found  # the address, as entered
    detail = client.get(f"/stations/{station}").get_data(as_text=True)
    assert "石牌驿站" in detail
