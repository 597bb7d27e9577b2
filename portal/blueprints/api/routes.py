"""The public JSON API, version 1: rest stations as RFC 7946 GeoJSON. Read-only, no cookies needed."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from portal import clock
from portal.access import public
from portal.blueprints.api.params import Params
from portal.extensions import limiter
from portal.models import Station
from portal.services import stations

bp = Blueprint("api", __name__, url_prefix="/api/v1")
limiter.limit("300 per minute")(bp)


def feature(station: Station, now, distance_m: int | None = None) -> dict:
    properties = {
        "id": station.id, "code": station.code, "name": station.name, "kind": station.kind.value,
        "address": station.address, "open_now": stations.is_open(station.hours, station.closed_until, now),
        "closed_until": station.closed_until.isoformat() if station.closed_until else None,
        "facilities": stations.codes_of(station.facilities), "hours": station.hours,
        "holiday_note": station.holiday_note, "phone": station.phone,
        "verified_at": station.verified_at.isoformat(),
        "url": url_for("stations.detail", station_id=station.id, _external=True),
        "navigation": stations.navigation_links(station),
    }
    if distance_m is not None:
        properties = {"distance_m": distance_m} | properties
    return {"type": "Feature", "id": station.id, "properties": properties,
            "geometry": {"type": "Point", "coordinates": [round(station.lng, 7), round(station.lat, 7)]}}


def collection(features: list[dict], **members) -> dict:
    return {"type": "FeatureCollection", "features": features, **members}


@bp.get("/stations/nearby")
@public
def nearby():
    params = Params(request.args)
    lat, lng = params.number("lat", -90, 90), params.number("lng", -180, 180)
    radius = params.number("radius_m", 1, stations.MAX_RADIUS_M, 5_000)
    limit = params.whole("limit", 1, stations.MAX_LIMIT, 20)
    mask, open_now = params.facilities(), params.flag("open_now")
    params.check()
    now = clock.now()
    found = stations.nearby(lat, lng, now, radius_m=radius, limit=limit, facilities=mask, open_now=open_now)
    return jsonify(collection([feature(n.station, now, n.distance_m) for n in found]))


@bp.get("/stations/<int:station_id>")
@public
def station(station_id: int):
    return jsonify(feature(stations.get(station_id), clock.now()))


@bp.get("/stations")
@public
def all_stations():
    params = Params(request.args)
    number, size = params.whole("page", 1, 1_000_000, 1), params.whole("page_size", 1, 500, 100)
    params.check()
    now, (items, total) = clock.now(), stations.page(number, size)
    more = number * size < total
    return jsonify(collection([feature(s, now) for s in items], page=number, page_size=size, total=total,
                              next=url_for("api.all_stations", page=number + 1, page_size=size, _external=True)
                              if more else None))
