"""Rest stations as services: the nearest search against a brute-force geodesic scan, opening hours at fixed
moments, coordinate conversion against reference points, and the audited changes managers make."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic
from sqlalchemy import select

from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Role, Station, StationChange, User
from portal.services import geo, stations
from portal.services.sla import SHANGHAI
from tests.conftest import NOW


def shanghai(y, mo, d, h, mi=0) -> datetime:
    """A Beijing wall-clock time as the aware UTC moment services take."""
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).astimezone(UTC)


# ------------------------------------------------------------------------------------- opening hours

WEEKDAYS = {d: [["08:00", "12:00"], ["14:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["22:00", "06:00"]], "sun": []}


@pytest.mark.parametrize(("moment", "expected"), [
    (shanghai(2026, 11, 23, 7, 59), False),   # Monday, before opening
    (shanghai(2026, 11, 23, 8, 0), True),     # opening minute
    (shanghai(2026, 11, 23, 12, 0), False),   # lunch break starts at the end minute
    (shanghai(2026, 11, 23, 13, 30), False),
    (shanghai(2026, 11, 23, 19, 59), True),
    (shanghai(2026, 11, 23, 20, 0), False),
    (shanghai(2026, 11, 28, 21, 59), False),  # Saturday before the night opens
    (shanghai(2026, 11, 28, 23, 30), True),   # Saturday night
    (shanghai(2026, 11, 29, 3, 0), True),     # Sunday small hours: Saturday's night range runs past midnight
    (shanghai(2026, 11, 29, 6, 0), False),    # and ends at 06:00
    (shanghai(2026, 11, 29, 12, 0), False),   # Sunday closed
])
def test_open_now_by_the_beijing_clock(moment, expected):
    assert stations.is_open(stations.parse_hours(WEEKDAYS), None, moment) is expected


def test_all_day_and_temporary_closure():
    all_day = stations.parse_hours(dict.fromkeys(stations.WEEKDAYS, stations.ALL_DAY))
    assert stations.is_all_day(all_day)
    for hour in (0, 3, 12, 23):
        assert stations.is_open(all_day, None, shanghai(2026, 11, 24, hour, 59))
    closed_until = shanghai(2026, 11, 24, 18)
    assert not stations.is_open(all_day, closed_until, shanghai(2026, 11, 24, 17, 59))
    assert stations.is_open(all_day, closed_until, shanghai(2026, 11, 24, 18, 0))


@pytest.mark.parametrize(("moment", "opens", "days"), [
    (shanghai(2026, 11, 23, 7, 0), shanghai(2026, 11, 23, 8), 0),      # Monday morning: opens 08:00 today
    (shanghai(2026, 11, 23, 12, 30), shanghai(2026, 11, 23, 14), 0),   # lunch break: the afternoon period
    (shanghai(2026, 11, 23, 21, 0), shanghai(2026, 11, 24, 8), 1),     # Monday night: tomorrow 08:00
    (shanghai(2026, 11, 27, 20, 30), shanghai(2026, 11, 28, 22), 1),   # Friday night: Saturday's night period
    (shanghai(2026, 11, 29, 6, 0), shanghai(2026, 11, 30, 8), 1),      # Sunday after the night: Monday 08:00
    (shanghai(2026, 11, 29, 0, 30), None, None),                       # open (Saturday's range past midnight)
])
def test_next_opening_by_the_beijing_clock(moment, opens, days):
    hours = stations.parse_hours(WEEKDAYS)
    assert stations.next_opening(hours, None, moment) == opens
    opening = stations.opening_after(hours, None, moment)
    assert (opening.days if opening else None) == days
    if opening:
        assert opening.at.tzinfo is SHANGHAI and opening.time == opening.at.strftime("%H:%M")


def test_next_opening_after_a_temporary_closure_and_without_hours():
    hours = stations.parse_hours(WEEKDAYS)
    # closed until Tuesday 10:00, inside the morning period: it opens when the closure ends
    assert stations.next_opening(hours, shanghai(2026, 11, 24, 10), shanghai(2026, 11, 23, 9)) == shanghai(
        2026, 11, 24, 10)
    # closed until Tuesday 13:00, in the lunch break: the afternoon period
    assert stations.next_opening(hours, shanghai(2026, 11, 24, 13), shanghai(2026, 11, 23, 9)) == shanghai(
        2026, 11, 24, 14)
    # closed for three weeks, until a Sunday: the Saturday night period does not help, Monday 08:00 does
    later = stations.opening_after(hours, shanghai(2026, 12, 13, 12), shanghai(2026, 11, 23, 9))
    assert later.at == shanghai(2026, 12, 14, 8) and later.days == 21 and later.weekday == "mon"
    never = stations.parse_hours({})
    assert stations.next_opening(never, None, shanghai(2026, 11, 23, 9)) is None


def test_equal_days_are_grouped_into_runs():
    split = [["07:00", "11:30"], ["13:30", "21:00"]]
    assert stations.day_runs(stations.parse_hours(dict.fromkeys(stations.WEEKDAYS, split))) == [("mon", "sun", split)]
    assert stations.day_runs(stations.parse_hours(WEEKDAYS)) == [
        ("mon", "fri", WEEKDAYS["mon"]), ("sat", "sat", [["22:00", "06:00"]]), ("sun", "sun", [])]
    odd = {"mon": split, "tue": [], "wed": split}
    assert [(a, b) for a, b, _ in stations.day_runs(stations.parse_hours(odd))] == [
        ("mon", "mon"), ("tue", "tue"), ("wed", "wed"), ("thu", "sun")]


@pytest.mark.parametrize("bad", [
    {"monday": []}, {"mon": "08:00-20:00"}, {"mon": [["8:00", "20:00"]]}, {"mon": [["08:00", "25:00"]]},
    {"mon": [["08:00", "08:00"]]}, {"mon": [["24:00", "06:00"]]}, {"mon": [["08:00"]]}, {"mon": [[8, 20]]},
    {"mon": [["00:00", "01:00"]] * 5}, [], "24h",
])
def test_malformed_hours_are_refused(bad):
    with pytest.raises(InvalidInput):
        stations.parse_hours(bad)


# -------------------------------------------------------------------------------------- nearest search

def test_nearest_equals_a_brute_force_geodesic_scan(ctx, make_station):
    rng = random.Random(7)
    for _ in range(400):  # clustered around Guangzhou and Shenzhen, as real stations are
        lat, lng = rng.choice([(23.13, 113.26), (22.54, 114.06)])
        make_station(lat=lat + rng.gauss(0, 0.05), lng=lng + rng.gauss(0, 0.05),
                     facilities=rng.sample(sorted(stations.FACILITIES), 3))
    everything = db.session.execute(select(Station.id, Station.lat, Station.lng, Station.facilities)).all()
    for _ in range(40):
        lat, lng = rng.choice([(23.13, 113.26), (22.54, 114.06)])
        lat, lng = lat + rng.gauss(0, 0.06), lng + rng.gauss(0, 0.06)
        radius, limit = rng.choice([500, 2_000, 5_000, 20_000]), rng.choice([1, 5, 20, 100])
        wanted = rng.choice([0, stations.FACILITIES["microwave"].bit])
        expected = sorted((geodesic((lat, lng), (s.lat, s.lng)).meters, s.id) for s in everything
                          if (s.facilities & wanted) == wanted)
        expected = [(d, i) for d, i in expected if d <= radius][:limit]
        found = stations.nearby(lat, lng, NOW, radius_m=radius, limit=limit, facilities=wanted)
        assert [n.station.id for n in found] == [i for _, i in expected]
        assert all(abs(n.distance_m - d) <= 1 for n, (d, _) in zip(found, expected, strict=True))


def test_the_geodesic_is_within_a_millimetre_of_karneys_everywhere():
    rng = random.Random(11)
    pairs = [((lat := rng.uniform(-80, 80)), (lng := rng.uniform(-180, 180)), lat + rng.gauss(0, 0.5),
              lng + rng.gauss(0, 0.5)) for _ in range(2000)]
    pairs += [(rng.uniform(-89, 89), rng.uniform(-180, 180), rng.uniform(-89, 89), rng.uniform(-180, 180))
              for _ in range(500)]
    pairs += [(0, 0, 0.5, 179.7), (0, 0, 0, 180), (23.1, 113.3, 23.1, 113.3)]  # nearly antipodal, antipodal, same
    for lat1, lng1, lat2, lng2 in pairs:
        assert abs(geo.geodesic_m(lat1, lng1, lat2, lng2) - geodesic((lat1, lng1), (lat2, lng2)).meters) < 0.001


def test_nearest_open_now_skips_closed_stations(ctx, make_station):
    closed = make_station(hours=dict.fromkeys(stations.WEEKDAYS, []))
    night = make_station(lat=23.1360, hours=dict.fromkeys(stations.WEEKDAYS, [["22:00", "06:00"]]))
    day = make_station(lat=23.1400, hours=dict.fromkeys(stations.WEEKDAYS, [["08:00", "20:00"]]))
    at_ten = NOW  # Friday 10:00 in Shanghai
    assert [n.station.id for n in stations.nearby(23.1353, 113.3340, at_ten, open_now=True)] == [day]
    assert [n.station.id for n in stations.nearby(23.1353, 113.3340, at_ten)] == [closed, night, day]


def test_minutes_on_foot_and_by_e_bike(ctx, make_station):
    make_station(lat=23.1353 + 0.009, lng=113.3340)  # about 1 km north
    near = stations.nearby(23.1353, 113.3340, NOW)[0]
    assert 990 <= near.distance_m <= 1010 and near.walk_min == 13 and near.ride_min == 4


# ------------------------------------------------------------------------------- navigation and codes

# Reference values from the coordtransform library (wandergis), the implementation most Chinese web maps use.
@pytest.mark.parametrize(("convert", "point", "expected"), [
    (geo.wgs84_to_gcj02, (39.915, 116.404), (39.91640428150164, 116.41024449916938)),
    (geo.gcj02_to_bd09, (39.915, 116.404), (39.92133699351022, 116.41036949371029)),
])
def test_datum_conversion_matches_the_reference(convert, point, expected):
    assert geodesic(convert(*point), expected).meters < 1


def test_navigation_links_carry_each_apps_datum_and_walk(ctx, make_station):
    station = db.session.get(Station, make_station(name="石牌驿站"))
    links = stations.navigation_links(station)
    glat, glng = geo.wgs84_to_gcj02(station.lat, station.lng)
    blat, blng = geo.wgs84_to_bd09(station.lat, station.lng)
    assert f"to={glng:.6f}%2C{glat:.6f}%2C" in links["amap"] and "mode=walk" in links["amap"]
    assert f"latlng%3A{blat:.6f}%2C{blng:.6f}" in links["baidu"] and "coord_type=bd09ll" in links["baidu"]
    assert "mode=walking" in links["baidu"]
    assert f"tocoord={glat:.6f}%2C{glng:.6f}" in links["tencent"] and "type=walk" in links["tencent"]


def test_short_codes_are_unambiguous_and_found_case_insensitively(ctx, make_station):
    station = db.session.get(Station, make_station())
    assert len(station.code) == 6 and not set(station.code) & set("01ILOU")
    assert stations.by_code(station.code.lower()).id == station.id
    with pytest.raises(NotFound):
        stations.by_code("ZZZZZZZ")


# ------------------------------------------------------------------------------------ managers' changes

def test_managers_change_only_their_own_stations_and_every_change_is_audited(ctx, make_station, make_user):
    manager, other = make_user(Role.STATION_MANAGER), make_user(Role.STATION_MANAGER)
    station_id = make_station(managers=[manager.id])
    mine = db.session.get(User, manager.id)
    with pytest.raises(NotFound):
        stations.for_manager(station_id, db.session.get(User, other.id))
    station = stations.for_manager(station_id, mine)
    stations.set_facility(station, mine, "microwave", True, NOW)
    stations.set_facility(station, mine, "microwave", True, NOW)  # no change, no record
    stations.set_hours(station, mine, dict.fromkeys(stations.WEEKDAYS, [["09:00", "18:00"]]), "春节休息", NOW)
    stations.set_closure(station, mine, NOW + timedelta(days=2), "装修", NOW)
    stations.confirm(station, mine, NOW + timedelta(minutes=5))
    changes = db.session.scalars(select(StationChange.field).where(StationChange.station_id == station_id)
                                 .order_by(StationChange.id)).all()
    assert changes == ["created", "facilities", "hours", "closure", "verified"]
    assert "microwave" in stations.codes_of(station.facilities) and station.holiday_note == "春节休息"
    assert stations.last_change(station).role == "station_manager"
    assert not stations.is_open(station.hours, station.closed_until, NOW + timedelta(days=1))


@pytest.mark.parametrize(("until", "reason"), [(NOW - timedelta(hours=1), "x"), (NOW + timedelta(days=400), "x"),
                                               (NOW + timedelta(days=1), "  ")])
def test_a_closure_needs_a_future_time_within_a_year_and_a_reason(ctx, make_station, make_user, until, reason):
    manager = make_user(Role.STATION_MANAGER)
    station = stations.for_manager(make_station(managers=[manager.id]), db.session.get(User, manager.id))
    with pytest.raises(InvalidInput):
        stations.set_closure(station, db.session.get(User, manager.id), until, reason, NOW)
    assert db.session.get(Station, station.id).closed_until is None


def test_the_demo_gives_every_station_its_own_name(ctx):
    """Two stations of one kind in one street are told apart ("…（2号站）"), not listed twice under one name."""
    from portal import demo

    demo.load(NOW, ["44"])
    names = list(db.session.scalars(select(Station.name)))
    assert len(names) > 100 and len(set(names)) == len(names)
    assert any(name.endswith("号站）") for name in names)
