"""The hours editor's common patterns (issue 14, item 10): open 24 hours, every day or Monday to Friday between
two times chosen from lists, handled by the server (no script), checked at the edge; the typed days stay for
anything else."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import Role, Station
from portal.services import stations
from tests.conftest import csrf_token, login

TYPED = {"mon": "08:00-12:00", "tue": "", "wed": "", "thu": "", "fri": "", "sat": "", "sun": "", "holiday_note": ""}


@pytest.fixture
def manager(app, make_user, make_station):
    user = make_user(Role.STATION_MANAGER)
    client = app.test_client()
    assert login(client, user.phone).status_code == 303
    station_id = make_station(managers=[user.id], name="我的驿站")
    return client, station_id, csrf_token(client, f"/stations/{station_id}/edit")


def saved_hours(app, station_id: int) -> dict:
    with app.app_context():
        hours = db.session.get(Station, station_id).hours
        db.session.remove()
        return hours


@pytest.mark.parametrize(("pattern", "opens", "closes", "week"), [
    ("all_day", "", "", dict.fromkeys(stations.WEEKDAYS, stations.ALL_DAY)),
    ("every_day", "07:00", "21:00", dict.fromkeys(stations.WEEKDAYS, [["07:00", "21:00"]])),
    ("weekdays", "08:00", "18:00", {d: [["08:00", "18:00"]] if d in stations.WORKING_DAYS else []
                                    for d in stations.WEEKDAYS}),
    ("every_day", "22:00", "06:00", dict.fromkeys(stations.WEEKDAYS, [["22:00", "06:00"]])),  # past midnight
])
def test_a_pattern_replaces_the_typed_days(app, manager, pattern, opens, closes, week):
    client, station_id, token = manager
    data = {"csrf_token": token, **TYPED, "pattern": pattern} | ({"opens": opens, "closes": closes} if opens else {})
    assert client.post(f"/stations/{station_id}/hours", data=data).status_code == 303
    assert saved_hours(app, station_id) == week


def test_without_a_pattern_the_typed_days_count(app, manager):
    client, station_id, token = manager
    assert client.post(f"/stations/{station_id}/hours", data={"csrf_token": token, **TYPED, "pattern": "",
                                                              "opens": "07:00", "closes": "21:00"}).status_code == 303
    assert saved_hours(app, station_id)["mon"] == [["08:00", "12:00"]] and saved_hours(app, station_id)["tue"] == []


@pytest.mark.parametrize("bad", [{"pattern": "weekends"}, {"pattern": "every_day", "opens": "7点"},
                                 {"pattern": "every_day", "closes": "25:00"}, {"pattern": "\x00"},
                                 {"pattern": "every_day", "opens": "09:00", "closes": "09:00"}])
def test_a_pattern_or_time_not_offered_is_refused_beside_the_form_and_nothing_changes(app, manager, bad):
    client, station_id, token = manager
    before = saved_hours(app, station_id)
    refused = client.post(f"/stations/{station_id}/hours", data={"csrf_token": token, **TYPED, **bad})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'class="(error|alert)"', html), "the refusal does not say why"
    assert saved_hours(app, station_id) == before


def test_the_editor_offers_the_patterns_as_choices_with_the_station_s_times(app, manager):
    client, station_id, token = manager
    client.post(f"/stations/{station_id}/hours", data={"csrf_token": token, **TYPED, "pattern": "weekdays",
                                                       "opens": "09:30", "closes": "17:30"})
    html = client.get(f"/stations/{station_id}/edit").get_data(as_text=True)
    for value, label in (("all_day", "每天 24 小时开放"), ("every_day", "每天，按所选的开门和关门时间"),
                         ("weekdays", "周一至周五")):
        assert re.search(rf'<input id="pattern-\d" name="pattern" type="radio" value="{value}">', html), value
        assert label in html
    assert re.search(r'<input checked id="pattern-0" name="pattern" type="radio" value="">', html)  # typed days
    assert '<option selected value="09:30">' in html and '<option selected value="17:30">' in html
    assert 'value="09:30-17:30"' in html  # Monday typed out as saved
