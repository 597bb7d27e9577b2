"""Open311 GeoReport v2 for partner channels: services are the grievance categories, requests are tickets.

Privacy: a request's description, contact details, exact place and the union's notes are returned only
to the channel that submitted it. Everyone else sees the service, the status, the dates, the union
handling it and the district — enough for a public map of what workers ask about, nothing more.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.database import command
from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.models import OPEN_STATUSES, ApiChannel, Channel, Kind, RegionLevel, Ticket
from portal.services import regions, taxonomy, tickets
from portal.services.tickets.codes import MAX_NUMBER, as_number
from portal.settings import setting
from portal.vocabulary import CATEGORY_LABELS, GROUP_LABELS, union_name

MAX_PAGE_SIZE = 100
MAX_IDS = 100  # ticket numbers in one search, as a comma-separated list
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default date range for a search


# -------------------------------------------------------------------------------------------- channels

def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@command
def create_channel(name: str, now: datetime) -> tuple[ApiChannel, str]:
    """Register a partner channel; its key is returned once and only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput(fields={"name": "Give the channel a name of at most 80 characters."})
    if db.session.scalar(select(ApiChannel.id).where(ApiChannel.name == name)) is not None:
        raise InvalidInput(fields={"name": f"A channel named {name} exists already."})
    key = secrets.token_urlsafe(32)
    channel = ApiChannel(name=name, key_hash=_digest(key), active=True, created_at=now)
    db.session.add(channel)
    db.session.commit()
    return channel, key


def channel_for_key(key: str | None) -> ApiChannel | None:
    if not key or len(key) > 100:
        return None
    return db.session.scalar(select(ApiChannel).where(ApiChannel.key_hash == _digest(key), ApiChannel.active))


# -------------------------------------------------------------------------------------------- services

def service_list() -> list[dict]:
    return [service(c.code) for g in taxonomy.TAXONOMY for c in g.categories]


def service(code: str) -> dict:
    category = taxonomy.CATEGORIES.get(code)
    if category is None:
        raise NotFound(_l("Unknown service_code."))
    return {"service_code": category.code, "service_name": str(CATEGORY_LABELS[code]),
            "description": str(CATEGORY_LABELS[code]), "metadata": False, "type": "realtime",
            "keywords": ",".join(category.keywords), "group": str(GROUP_LABELS[taxonomy.group_of(code).code])}


# -------------------------------------------------------------------------------------------- requests

def nearest_district(lat: float, lng: float) -> regions.Place:
    """The district whose centre is nearest, within the configured tree (no boundaries are stored)."""
    districts = [p for p in regions.places(RegionLevel.DISTRICT, setting("ROOT_REGION"))
                 if p.lat is not None]
    cos = math.cos(math.radians(lat))
    return min(districts, key=lambda r: (r.lat - lat) ** 2 + ((r.lng - lng) * cos) ** 2)


# The fields of a request and the most each may hold; everything else a channel sends is ignored, as the spec has it.
TEXT_FIELDS = {"service_code": 20, "address_id": 12, "attribute[kind]": 20, "first_name": 32, "last_name": 32,
               "phone": 20, "description": tickets.MAX_DESCRIPTION}


def _texts(form: dict) -> dict[str, str]:
    """Each known field as stored text (NFC, no NUL or lone surrogate, within its length), naming the field at
    fault; a JSON number is taken as its text, anything else where text belongs is refused."""
    texts = {}
    for name, limit in TEXT_FIELDS.items():
        value = form.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = repr(value)
        texts[name] = parse.text(value, name, limit)
    return texts | {"lat": _coordinate(form.get("lat"), "lat"), "long": _coordinate(form.get("long"), "long")}


def _coordinate(value, name: str) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return parse.text(value, name, 40) or None


def create(channel: ApiChannel, form: dict, idempotency_key: str | None, now: datetime) -> tickets.Receipt:
    """A request from a partner channel becomes a ticket, through the same rules as the web form."""
    form = _texts(form)
    lat, lng = parse.number(form["lat"], "lat", -90, 90), parse.number(form["long"], "long", -180, 180)
    if (lat is None) != (lng is None):
        raise InvalidInput(fields={"lat": _l("Give both lat and long, or neither.")})
    place = form.get("address_id") or ""
    if not place and lat is not None:
        place = nearest_district(lat, lng).code
    if not place:
        raise InvalidInput(fields={"address_id": _l("Give a district or town division code, or lat and long.")})
    kind = form.get("attribute[kind]") or Kind.CONSULTATION.value
    if kind not in {k.value for k in Kind}:
        raise InvalidInput(fields={"attribute[kind]": _l("One of consultation, suggestion, help, appeal.")})
    name = " ".join(p for p in (form.get("first_name", ""), form.get("last_name", "")) if p).strip()
    phone = form.get("phone") or ""
    submission = tickets.Submission(
        kind=Kind(kind), category=form.get("service_code") or "", description=form.get("description") or "",
        place_code=place, channel=Channel.API, lat=lat, lng=lng, anonymous=not (name or phone),
        contact_name=name[:64], contact_phone=phone, api_channel_id=channel.id)
    key = (idempotency_key or "").strip()
    if len(key) > 40:
        raise InvalidInput(fields={"Idempotency-Key": _l("Use at most %(num)d characters.", num=40)})
    token = f"api{channel.id}:{key}" if key else f"api{channel.id}:{secrets.token_urlsafe(18)}"
    receipt = tickets.submit(submission, token=token, now=now)
    if receipt.ticket.api_channel_id != channel.id:  # a key another channel used: never hand over its ticket
        raise InvalidInput(fields={"Idempotency-Key": _l("Already used by another channel.")})
    return receipt


@dataclass(frozen=True)
class Search:
    ids: list[str]
    service_code: str | None
    start: datetime | None
    end: datetime | None
    status: str | None
    page: int
    page_size: int


def parse_search(args) -> Search:
    status = args.get("status") or None
    if status not in (None, "open", "closed"):
        raise InvalidInput(fields={"status": _l("Open or closed.")})
    code = args.get("service_code") or None
    if code is not None and code not in taxonomy.CATEGORIES:
        raise InvalidInput(fields={"service_code": _l("Unknown service_code.")})
    listed = parse.text(args.get("service_request_id"), "service_request_id", MAX_IDS * (MAX_NUMBER + 1))
    ids = [as_number(i) for i in listed.split(",") if i.strip()][:MAX_IDS]
    return Search(ids, code, parse.moment(args.get("start_date"), "start_date"),
                  parse.moment(args.get("end_date"), "end_date"), status,
                  parse.whole(args.get("page"), "page", 1, 100_000) or 1,
                  parse.whole(args.get("page_size"), "page_size", 1, MAX_PAGE_SIZE) or 50)


def search(query: Search, now: datetime) -> list[Ticket]:
    conditions = [regions.within(Ticket.place_code, setting("ROOT_REGION"))]
    if query.ids:
        conditions.append(Ticket.number.in_(query.ids))
    else:  # the spec's default window: the last 90 days
        conditions.append(Ticket.received_at >= (query.start or now - DEFAULT_WINDOW))
        conditions.append(Ticket.received_at <= (query.end or now))
    if query.service_code:
        conditions.append(Ticket.category == query.service_code)
    if query.status == "open":
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    elif query.status == "closed":
        conditions.append(Ticket.status.not_in(OPEN_STATUSES))
    return list(db.session.scalars(select(Ticket).where(*conditions).order_by(Ticket.received_at.desc(), Ticket.id)
                                   .offset((query.page - 1) * query.page_size).limit(query.page_size)))


def get(number: str) -> Ticket:
    return tickets.get_by_number((number or "").upper())


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def serialise(ticket: Ticket, channel: ApiChannel | None) -> dict:
    """The spec's request fields; the details only for the channel that submitted the request."""
    owner = channel is not None and ticket.api_channel_id == channel.id
    path = regions.ancestry(ticket.place_code)
    district = next((r for r in path if r.level is RegionLevel.DISTRICT), path[-1])
    reply = next((e.note for e in reversed(ticket.events) if e.action == "replied"), None)
    return {
        "service_request_id": ticket.number,
        "status": "open" if ticket.is_open else "closed",
        "status_notes": reply if owner else None,
        "service_name": str(CATEGORY_LABELS[ticket.category]),
        "service_code": ticket.category,
        "description": ticket.description if owner else None,
        "agency_responsible": str(union_name(ticket.handler)),
        "service_notice": None,
        "requested_datetime": _iso(ticket.received_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(ticket.due_at),
        "address": " ".join(r.name for r in (path if owner else regions.ancestry(district.code))),
        "address_id": ticket.place_code if owner else district.code,
        "zipcode": None,
        "lat": ticket.lat if owner else None,
        "long": ticket.lng if owner else None,
        "media_url": None,
    }
