"""From a station's QR poster to a sent grievance, through HTTP (issue 14, item 6): the poster's two codes, the
station page's complaint link, the form a code opens (place filled in, short by default), codes no poster holds,
and what a refused post opens and focuses."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Channel, Station, Ticket
from tests.conftest import grievance_form


class Tags(HTMLParser):
    """Every start tag of a page as (tag, attributes), in document order; a bare attribute's value is ""."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def autofocused(self) -> list[tuple[str, dict]]:
        return [(t, a) for t, a in self.tags if "autofocus" in a]


def code_of(app, station_id: int) -> str:
    with app.app_context():
        code = db.session.get(Station, station_id).code
        db.session.remove()
        return code


def stored(app) -> Ticket:
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        db.session.expunge(ticket)
        db.session.remove()
        return ticket


def test_the_poster_offers_the_station_s_page_and_report_a_problem_each_with_its_own_code(app, client,
                                                                                           make_station):
    station_id = make_station(name="石牌驿站")
    code = code_of(app, station_id)
    html = client.get(f"/stations/{station_id}/poster").get_data(as_text=True)
    assert html.count('<svg class="qr"') == 2
    assert f"http://localhost/s/{code}</p>" in html and f"http://localhost/g/{code}</p>" in html
    assert html.index('id="poster-station"') < html.index('id="poster-report"')
    assert "在此反映问题" in html and "本驿站" in html


def test_the_station_page_puts_report_a_problem_before_everything_else_it_offers(app, client, make_station):
    station_id = make_station()
    code = code_of(app, station_id)
    html = client.get(f"/stations/{station_id}").get_data(as_text=True)
    link = html.index(f'href="/g/{code}"')
    assert html.count(f'href="/g/{code}"') == 1
    assert link < html.index('id="facilities-title"') and link < html.index('id="hours-title"')
    assert "在此反映问题" in html


def test_a_station_s_code_opens_the_short_form_with_the_place_filled_in(app, client, make_station):
    station_id = make_station(name="石牌驿站")
    code = code_of(app, station_id)
    html = client.get(f"/g/{code}").get_data(as_text=True)
    tags = Tags(html)
    assert tags.find("form", action=f"/g/{code}", method="post")
    assert tags.find("input", name="via", value=code)
    assert tags.find("option", value="440106006", selected="")
    assert "来自石牌驿站的二维码海报。" in html and "石牌街道总工会" in html
    # The place, filled in, folds behind one control; the optional rest is closed; nothing asks for focus.
    assert tags.find("details", class_="place-choice") and "open" not in tags.find("details", class_="place-choice")[0]
    assert tags.find("details", class_="more-details") == [{"class": "more-details"}]
    assert tags.autofocused() == []
    # In the page's order: kind, what happened, what it is about (its suggestion right under it), place, the rest.
    order = [html.index(s) for s in ('name="kind"', 'name="description"', 'name="category"',
                                     'id="grievances-suggestion"', 'id="grievance-place"', 'class="more-details"',
                                     'name="employer"', 'name="contact_name"', 'name="consent"')]
    assert order == sorted(order)

    response = client.post(f"/g/{code}", data=grievance_form(client, f"/g/{code}"))
    assert response.status_code == 200 and "我们已收到您的诉求" in response.get_data(as_text=True)
    ticket = stored(app)
    assert ticket.channel is Channel.QR and ticket.place_code == "440106006"


@pytest.mark.parametrize("code", ["NOPE99", "4401", "44", "110101", "\x00", "CH\x00JY", "4" * 200, "A" * 3000,
                                  "石牌", "' OR 1=1 --", "%00"])
def test_a_code_no_poster_holds_gives_the_form_without_a_place(app, client, code):
    response = client.get(f"/g/{code}")
    html = response.get_data(as_text=True)
    tags = Tags(html)
    assert response.status_code == 200
    assert "这张海报的编码无法识别" in html
    assert tags.find("form", action="/grievances/", method="post")  # sent as a plain web request
    assert tags.find("input", name="via", value="")
    assert not [a for a in tags.find("option") if "selected" in a]
    assert not tags.find("details", class_="place-choice")  # the lists are open: the place is to choose


def test_a_post_to_an_unknown_code_is_a_web_request_whatever_the_form_says(app, client):
    data = grievance_form(client, "/g/NOPE99") | {"via": "NOPE99"}
    response = client.post("/g/NOPE99", data=data)
    assert response.status_code == 200
    assert stored(app).channel is Channel.WEB


def test_a_workplace_poster_s_district_code_still_fills_in_the_place(client):
    tags = Tags(client.get("/g/440106").get_data(as_text=True))
    assert tags.find("option", value="440106", selected="") and tags.find("input", name="via", value="440106")


@pytest.mark.parametrize("anonymous, name, phone", [("y", "", ""), ("", "王小明", "13800138000")])
def test_name_and_phone_are_stored_only_when_anonymous_is_not_ticked(app, client, anonymous, name, phone):
    data = grievance_form(client, anonymous=anonymous, contact_name="王小明", contact_phone="13800138000")
    assert client.post("/grievances/", data=data).status_code == 200
    ticket = stored(app)
    assert (ticket.anonymous, ticket.contact_name, ticket.contact_phone) == (bool(anonymous), name, phone)


@pytest.mark.parametrize("overrides, field", [
    ({"amount_owed": "很多"}, "amount_owed"),
    ({"workers_affected": "0"}, "workers_affected"),
    ({"employer": "厂" * 201}, "employer"),
    ({"anonymous": "", "contact_phone": "12345"}, "contact_phone"),
])
def test_a_problem_in_the_folded_details_opens_them_and_focuses_that_field(app, client, overrides, field):
    response = client.post("/grievances/", data=grievance_form(client, **overrides))
    tags = Tags(response.get_data(as_text=True))
    assert response.status_code == 422
    assert tags.find("details", class_="more-details", open="")
    focused = tags.autofocused()
    assert len(focused) == 1 and focused[0][1]["name"] == field and focused[0][1]["aria-invalid"] == "true"


def test_the_first_problem_in_page_order_takes_the_focus_and_the_details_stay_folded(client):
    data = grievance_form(client, kind="", description="", employer="", amount_owed="", workers_affected="")
    tags = Tags(client.post("/grievances/", data=data).get_data(as_text=True))
    assert tags.find("details", class_="more-details") == [{"class": "more-details"}]
    focused = tags.autofocused()
    assert len(focused) == 1 and focused[0][1]["name"] == "kind" and focused[0][1]["value"] == "consultation"


def test_what_was_typed_in_the_details_shows_them_open_when_the_form_comes_back(client):
    data = grievance_form(client, description="", amount_owed="", workers_affected="")  # employer kept
    tags = Tags(client.post("/grievances/", data=data).get_data(as_text=True))
    assert tags.find("details", class_="more-details", open="")
    assert [a["name"] for _, a in tags.autofocused()] == ["description"]


def test_the_receipt_takes_the_focus_and_names_the_ticket(client):
    html = client.post("/grievances/", data=grievance_form(client)).get_data(as_text=True)
    receipt = Tags(html).find("section", class_="receipt")
    assert receipt and "autofocus" in receipt[0] and receipt[0]["tabindex"] == "-1"
    assert re.search(r'id="receipt-number"><dt>工单号</dt><dd class="code">44-\d{8}-\d{4}</dd>', html)


def test_without_javascript_changing_a_poster_s_place_shows_the_lists_open(app, client, make_station):
    code = code_of(app, make_station())
    data = grievance_form(client, f"/g/{code}", town="") | {"refresh_place": "1"}  # a district: a place
    response = client.post(f"/g/{code}", data=data)
    tags = Tags(response.get_data(as_text=True))
    assert response.status_code == 200
    assert not tags.find("details", class_="place-choice")  # the worker is choosing: nothing folds the lists
    assert tags.find("select", id="picker-town") and tags.find("form", action=f"/g/{code}")
