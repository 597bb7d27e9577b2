"""Rest stations: the facilities (codes and bits; their names are in portal.vocabulary), opening hours and
"open now", the nearest search, and the changes station managers make (each one audited).

The nearest search reads a bounding box through the (lat, lng) index and lets `geo.rank` order the
candidates by their exact WGS-84 distance.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.database import command
from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Role, Station, StationChange, StationKind, StationManager, StationReport, User
from portal.services import geo
from portal.services.sla import SHANGHAI

# ------------------------------------------------------------------------------------------ facilities


@dataclass(frozen=True)
class Facility:
    code: str
    bit: int
    icon: str  # symbol id in templates/_icons.html


FACILITIES = {f.code: f for f in (
    Facility("water", 1 << 0, "f-water"),
    Facility("seats", 1 << 1, "f-seats"),
    Facility("charging", 1 << 2, "f-charging"),
    Facility("microwave", 1 << 3, "f-microwave"),
    Facility("toilet", 1 << 4, "f-toilet"),
    Facility("air_conditioning", 1 << 5, "f-air_conditioning"),
    Facility("wifi", 1 << 6, "f-wifi"),
    Facility("first_aid", 1 << 7, "f-first_aid"),
    Facility("fridge", 1 << 8, "f-fridge"),
    Facility("power_bank", 1 << 9, "f-power_bank"),
    Facility("aed", 1 << 10, "f-aed"),
    Facility("battery_swap", 1 << 11, "f-battery_swap"),
    Facility("umbrella", 1 << 12, "f-umbrella"),
    Facility("reading", 1 << 13, "f-reading"),
    Facility("job_screen", 1 << 14, "f-job_screen"),
    Facility("lawyer", 1 << 15, "f-lawyer"),
)}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = [["00:00", "24:00"]]
MAX_RADIUS_M = 50_000
MAX_LIMIT = 100
WALK_M_PER_MIN = 75  # 4.5 km/h
RIDE_M_PER_MIN = 250  # 15 km/h on an e-bike in town


def mask_of(codes) -> int:
    """The bit mask of facility codes; InvalidInput names an unknown one."""
    mask = 0
    for code in codes:
        if code not in FACILITIES:
            raise InvalidInput(_l("Unknown facility: %(code)s", code=code[:30]), fields={"facilities": code[:30]})
        mask |= FACILITIES[code].bit
    return mask


def codes_of(mask: int) -> list[str]:
    return [f.code for f in FACILITIES.values() if mask & f.bit]


# --------------------------------------------------------------------------------------- opening hours

_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")


def _minutes(text: str) -> int:
    return 1440 if text == "24:00" else int(text[:2]) * 60 + int(text[3:])


def parse_hours(raw) -> dict[str, list[list[str]]]:
    """Opening hours as stored: every weekday present, ranges of "HH:MM" sorted by start. A range whose end is
    not after its start runs past midnight; "00:00"–"24:00" is all day. InvalidInput says what is wrong."""
    if not isinstance(raw, dict) or set(raw) - set(WEEKDAYS):
        raise InvalidInput(_l("Opening hours must name weekdays."), fields={"hours": "weekdays"})
    hours = {}
    for day in WEEKDAYS:
        ranges = raw.get(day) or []
        if not isinstance(ranges, list) or len(ranges) > 4:
            raise InvalidInput(_l("At most four opening periods a day."), fields={"hours": day})
        clean = []
        for item in ranges:
            if (not isinstance(item, list | tuple) or len(item) != 2
                    or not all(isinstance(t, str) and _TIME.fullmatch(t) for t in item)):
                raise InvalidInput(_l("Times are written like 08:30."), fields={"hours": day})
            start, end = item
            if start == "24:00" or start == end:
                raise InvalidInput(_l("An opening period must not be empty."), fields={"hours": day})
            clean.append([start, end])
        hours[day] = sorted(clean)
    return hours


ALL_DAY_WORDS = {"24h", "24", "全天", "00:00-24:00"}


def hours_text(ranges: list[list[str]]) -> str:
    """One day's ranges as people type them: "08:00-12:00, 14:00-20:00"; "24h" all day; "" closed."""
    if ranges == ALL_DAY:
        return "24h"
    return ", ".join(f"{start}-{end}" for start, end in ranges)


# The weeks most stations keep, offered as choices in the managers' editor (the typed days stay for the rest).
HOURS_PATTERNS = ("all_day", "every_day", "weekdays")
WORKING_DAYS = WEEKDAYS[:5]


def pattern_week(pattern: str, opens: str, closes: str) -> dict[str, list[list[str]]]:
    """The week of a pattern: open 24 hours every day, every day `opens`-`closes`, or Monday to Friday
    `opens`-`closes` and closed at the weekend. parse_hours checks the times like any typed ones."""
    if pattern not in HOURS_PATTERNS:
        raise InvalidInput(_l("Choose one of the patterns shown."), fields={"hours": "pattern"})
    if pattern == "all_day":
        return {day: ALL_DAY for day in WEEKDAYS}
    days = WEEKDAYS if pattern == "every_day" else WORKING_DAYS
    return {day: [[opens, closes]] if day in days else [] for day in WEEKDAYS}


def pattern_of(hours: dict) -> tuple[str, str, str] | None:
    """(pattern, opens, closes) when a station's week is one of the patterns: the editor's time lists then start at
    the station's own times."""
    week = [hours.get(day) or [] for day in WEEKDAYS]
    if all(ranges == ALL_DAY for ranges in week):
        return "all_day", "", ""
    first = week[0]
    if len(first) != 1 or first == ALL_DAY:
        return None
    if all(ranges == first for ranges in week):
        return "every_day", *first[0]
    if all(ranges == first for ranges in week[:5]) and not any(week[5:]):
        return "weekdays", *first[0]
    return None


def hours_from_text(days: dict[str, str]) -> dict[str, list[list[str]]]:
    """The typed form of the week (the managers' editor, a CSV row) as parse_hours reads it; full-width
    punctuation and other dashes are accepted, as Chinese keyboards type them."""
    week = {}
    for day in WEEKDAYS:
        text = (days.get(day) or "").strip()
        for typed, meant in (("，", ","), ("–", "-"), ("—", "-"), ("～", "-"), ("~", "-"), ("：", ":")):
            text = text.replace(typed, meant)
        if text.lower() in ALL_DAY_WORDS:
            week[day] = ALL_DAY
        else:
            week[day] = [[part.strip() for part in item.split("-", 1)] for item in text.split(",") if item.strip()]
    return week


def is_open(hours: dict, closed_until: datetime | None, now: datetime) -> bool:
    """Open at `now` (Asia/Shanghai wall clock) by the weekly hours, unless temporarily closed."""
    if closed_until is not None and closed_until > now:
        return False
    local = now.astimezone(SHANGHAI)
    minute = local.hour * 60 + local.minute
    today, yesterday = WEEKDAYS[local.weekday()], WEEKDAYS[local.weekday() - 1]
    for start, end in hours.get(today, []):
        s, e = _minutes(start), _minutes(end)
        if (s < e and s <= minute < e) or (e <= s and minute >= s):
            return True
    return any(_minutes(end) <= _minutes(start) and minute < _minutes(end)
               for start, end in hours.get(yesterday, []))


def next_opening(hours: dict, closed_until: datetime | None, now: datetime) -> datetime | None:
    """When a station closed at `now` opens next, on the Beijing wall clock: the end of a temporary closure
    when the hours have it open then, else the first period that starts after it (ranges past midnight start
    on their own day). None when it is open now or has no opening hours at all."""
    start = max(now, closed_until) if closed_until is not None else now
    if is_open(hours, closed_until, now) or not any(hours.get(day) for day in WEEKDAYS):
        return None
    local = start.astimezone(SHANGHAI)
    if start > now and is_open(hours, None, start):
        return local
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        day = midnight + timedelta(days=ahead)
        starts = sorted(_minutes(s) for s, _ in hours.get(WEEKDAYS[day.weekday()], []))
        for minute in starts:
            moment = (day.replace(tzinfo=None) + timedelta(minutes=minute)).replace(tzinfo=SHANGHAI)
            if moment > local:
                return moment
    return None


@dataclass(frozen=True)
class Opening:
    """The next opening as a page says it: "opens 07:00", "opens tomorrow 07:00", "opens Monday 08:00"."""

    at: datetime  # Beijing wall clock
    days: int  # calendar days from today in Beijing: 0 today, 1 tomorrow

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.at.weekday()]

    @property
    def time(self) -> str:
        return self.at.strftime("%H:%M")


def opening_after(hours: dict, closed_until: datetime | None, now: datetime) -> Opening | None:
    at = next_opening(hours, closed_until, now)
    if at is None:
        return None
    return Opening(at, (at.date() - now.astimezone(SHANGHAI).date()).days)


def day_runs(hours: dict) -> list[tuple[str, str, list[list[str]]]]:
    """The week as runs of consecutive days with the same hours, (first day, last day, ranges), Monday first:
    a page says "every day 07:00–11:30, 13:30–21:00" once instead of seven identical rows."""
    runs: list[tuple[str, str, list[list[str]]]] = []
    for day in WEEKDAYS:
        ranges = hours.get(day) or []
        if runs and runs[-1][2] == ranges:
            runs[-1] = (runs[-1][0], day, ranges)
        else:
            runs.append((day, day, ranges))
    return runs


def is_all_day(hours: dict) -> bool:
    return all(hours.get(day) == ALL_DAY for day in WEEKDAYS)


# ---------------------------------------------------------------------------------------- nearest search

@dataclass(frozen=True)
class Near:
    station: Station
    distance_m: int  # geodesic, whole metres

    @property
    def walk_min(self) -> int:
        return max(1, round(self.distance_m / WALK_M_PER_MIN))

    @property
    def ride_min(self) -> int:
        return max(1, round(self.distance_m / RIDE_M_PER_MIN))


def nearest(lat: float, lng: float, now: datetime, radius_m: float = 5_000, limit: int = 20,
            facilities: int = 0, open_now: bool = False) -> list[tuple[float, int]]:
    """(geodesic metres, station id) of the stations within radius_m of a WGS-84 point, nearest first."""
    south, north, west, east = geo.box(lat, lng, radius_m)
    columns = [Station.id, Station.lat, Station.lng]
    if open_now:
        columns += [Station.hours, Station.closed_until]
    query = select(*columns).where(Station.lat.between(south, north), Station.lng.between(west, east))
    if facilities:
        query = query.where(Station.facilities.op("&")(facilities) == facilities)
    rows = db.session.execute(query).all()
    if open_now:
        rows = [r for r in rows if is_open(r.hours, r.closed_until, now)]
    return geo.rank(lat, lng, rows, radius_m, limit)


def nearby(lat: float, lng: float, now: datetime, radius_m: float = 5_000, limit: int = 20,
           facilities: int = 0, open_now: bool = False) -> list[Near]:
    """The stations themselves, nearest first, with their distances in whole metres."""
    chosen = nearest(lat, lng, now, radius_m, limit, facilities, open_now)
    found = {s.id: s for s in db.session.scalars(select(Station).where(Station.id.in_([i for _, i in chosen])))}
    return [Near(found[i], round(d)) for d, i in chosen]


# ------------------------------------------------------------------------------------------- look-ups

def get(station_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None:
        raise NotFound()
    return station


def by_code(code: str) -> Station:
    """The station of a poster's code (/s/<code>): a code is ASCII letters and digits, so anything else (a NUL
    byte, which PostgreSQL refuses in a query) names no station without asking the database."""
    code = (code or "").strip().upper()[:8]
    if not (code.isascii() and code.isalnum()):
        raise NotFound()
    station = db.session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise NotFound()
    return station


def page(number: int, size: int = 100) -> tuple[list[Station], int]:
    """All stations in id order, a page at a time, and how many there are."""
    total = db.session.scalar(select(func.count()).select_from(Station))
    items = db.session.scalars(select(Station).order_by(Station.id).offset((number - 1) * size).limit(size)).all()
    return list(items), total


def last_change(station: Station) -> StationChange | None:
    return db.session.scalar(select(StationChange).where(StationChange.station_id == station.id)
                             .order_by(StationChange.at.desc(), StationChange.id.desc()).limit(1))


def managed_by(user: User) -> list[Station]:
    if user.role is Role.ADMIN:
        return list(db.session.scalars(select(Station).order_by(Station.name).limit(200)))
    return list(db.session.scalars(select(Station).join(StationManager).where(StationManager.user_id == user.id)
                                   .order_by(Station.name)))


def for_manager(station_id: int, user: User) -> Station:
    """A station its manager (or an administrator) may edit; any other answers 404, revealing nothing."""
    query = select(Station).where(Station.id == station_id)
    if user.role is not Role.ADMIN:
        query = query.join(StationManager).where(StationManager.user_id == user.id)
    station = db.session.scalar(query)
    if station is None:
        raise NotFound()
    return station


# -------------------------------------------------------------------------------------------- changes

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud and typed without doubt


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if db.session.scalar(select(Station.id).where(Station.code == code)) is None:
            return code


def _audit(station: Station, user: User | None, field: str, before, after, now: datetime) -> None:
    station.updated_at = now
    db.session.add(StationChange(station_id=station.id, user_id=user.id if user else None,
                                 role=user.role.value if user else "import", field=field,
                                 before=str(before), after=str(after), at=now))


@dataclass(frozen=True)
class StationData:
    """A station as an import row or the demo gives it; `hours` as parse_hours reads them."""

    name: str
    kind: StationKind
    address: str
    region_code: str
    lat: float
    lng: float
    facilities: int
    hours: dict
    phone: str = ""
    holiday_note: str = ""
    external_id: str | None = None


_DATA_FIELDS = ("name", "kind", "address", "region_code", "lat", "lng", "facilities", "hours", "phone",
                "holiday_note")


def _fill(station: Station, data: StationData) -> None:
    for name in _DATA_FIELDS:
        setattr(station, name, getattr(data, name))
    station.hours = parse_hours(data.hours)


def add(data: StationData, now: datetime, managers: list[User] = ()) -> Station:
    """A new station in the caller's transaction (the importer and the demo commit once for many)."""
    station = Station(code=new_code(), external_id=data.external_id, verified_at=now, updated_at=now)
    _fill(station, data)
    station.managers = list(managers)
    db.session.add(station)
    db.session.flush()
    _audit(station, None, "created", "", station.name, now)
    return station


def replace(station: Station, data: StationData, user: User | None, now: datetime) -> bool:
    """An imported row over an existing station, in the caller's transaction; False when nothing changed."""
    before = [getattr(station, name) for name in _DATA_FIELDS]
    _fill(station, data)
    if [getattr(station, name) for name in _DATA_FIELDS] == before:
        return False
    _audit(station, user, "import", "", "", now)
    return True


@command
def set_manager(code: str, phone: str, present: bool, now: datetime) -> Station:
    """Make the account with this phone a manager of the station with this code, or no longer one."""
    station = by_code(code)
    user = db.session.scalar(select(User).where(User.phone == (phone or "").strip()))
    if user is None or user.role is not Role.STATION_MANAGER:
        raise InvalidInput(_l("No station manager account has this number."), fields={"phone": "unknown"})
    managers = [m for m in station.managers if m.id != user.id]
    station.managers = [*managers, user] if present else managers
    _audit(station, None, "managers", "", f"{'+' if present else '-'}{user.id}", now)
    db.session.commit()
    return station


@command
def set_facility(station: Station, user: User, code: str, present: bool, now: datetime) -> Station:
    bit = mask_of([code])
    before = station.facilities
    station.facilities = before | bit if present else before & ~bit
    if station.facilities != before:
        _audit(station, user, "facilities", ",".join(codes_of(before)), ",".join(codes_of(station.facilities)), now)
    db.session.commit()
    return station


@command
def set_hours(station: Station, user: User, hours, holiday_note: str, now: datetime) -> Station:
    clean, note = parse_hours(hours), (holiday_note or "").strip()[:200]
    if (clean, note) != (station.hours, station.holiday_note):
        _audit(station, user, "hours", station.hours, clean, now)
        station.hours, station.holiday_note = clean, note
    db.session.commit()
    return station


@command
def set_closure(station: Station, user: User, until: datetime | None, reason: str, now: datetime) -> Station:
    """Close the station until a moment (reason required), or reopen it with until=None."""
    reason = (reason or "").strip()[:200]
    if until is not None and (until <= now or until > now + timedelta(days=366)):
        raise InvalidInput(_l("Choose a reopening time within the next year."), fields={"until": "range"})
    if until is not None and not reason:
        raise InvalidInput(_l("Say why the station is closed."), fields={"reason": "required"})
    _audit(station, user, "closure", station.closed_until or "", until or "", now)
    station.closed_until, station.closure_reason = until, reason if until else ""
    db.session.commit()
    return station


@command
def confirm(station: Station, user: User, now: datetime) -> Station:
    """"Still correct": the information was checked today."""
    _audit(station, user, "verified", station.verified_at, now, now)
    station.verified_at = now
    db.session.commit()
    return station


@command
def report(station_id: int, correct: bool, problem: str, now: datetime) -> None:
    """A visitor says the page is right, or what is wrong with it (the station's managers see it)."""
    station = get(station_id)
    problem = (problem or "").strip()[:500]
    if not correct and not problem:
        raise InvalidInput(_l("Please say what is wrong."), fields={"problem": "required"})
    db.session.add(StationReport(station_id=station.id, correct=correct, problem="" if correct else problem, at=now))
    db.session.commit()


def open_reports(station: Station) -> list[StationReport]:
    return list(db.session.scalars(select(StationReport).where(
        StationReport.station_id == station.id, StationReport.correct.is_(False), StationReport.resolved_at.is_(None))
        .order_by(StationReport.at.desc()).limit(50)))


@command
def resolve_report(station: Station, user: User, report_id: int, now: datetime) -> None:
    found = db.session.scalar(select(StationReport).where(StationReport.id == report_id,
                                                          StationReport.station_id == station.id))
    if found is None:
        raise NotFound()
    if found.resolved_at is None:
        found.resolved_at = now
        _audit(station, user, "report", found.problem, "resolved", now)
    db.session.commit()


def navigation_links(station: Station, name: str | None = None) -> dict[str, str]:
    """Walking directions in Amap, Baidu and Tencent maps, each in its own datum (see services.geo)."""
    return geo.navigation_links(station.lat, station.lng, name or station.name)
