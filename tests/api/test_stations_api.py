"""GET /api/v1/stations…: RFC 7946 GeoJSON, nearest first, and a JSON error per bad field (never a 500)."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic

from portal.services import geo
from tests.api.conftest import conforms


def test_nearby_is_a_feature_collection_sorted_by_distance(client, make_station):
    far = make_station(lat=23.1500, facilities=("water", "microwave"), name="远处驿站")
    near = make_station(lat=23.1360, facilities=("water",), name="近处驿站")
    body = conforms(client.get("/api/v1/stations/nearby?lat=23.1353&lng=113.3340")).get_json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == [near, far]
    first = body["features"][0]
    assert first["type"] == "Feature" and first["geometry"]["type"] == "Point"
    lng, lat = first["geometry"]["coordinates"]  # RFC 7946: longitude first
    assert first["properties"]["distance_m"] == round(geodesic((23.1353, 113.3340), (lat, lng)).meters)
    assert {"id", "name", "distance_m", "open_now", "facilities", "hours", "address", "url", "navigation"} <= set(
        first["properties"])
    glat, glng = geo.wgs84_to_gcj02(lat, lng)
    assert f"{glng:.6f}%2C{glat:.6f}" in first["properties"]["navigation"]["amap"]
    here = "/api/v1/stations/nearby?lat=23.1353&lng=113.3340"
    with_microwave = conforms(client.get(f"{here}&facilities=microwave")).get_json()
    assert [f["id"] for f in with_microwave["features"]] == [far]
    assert conforms(client.get(f"{here}&limit=1")).get_json()["features"][0]["id"] == near
    assert conforms(client.get(f"{here}&radius_m=500")).get_json()["features"][0]["id"] == near


@pytest.mark.parametrize(("query", "fields"), [
    ("lat=91&lng=113", {"lat"}),
    ("lat=NaN&lng=113", {"lat"}),
    ("lat=23&lng=Infinity", {"lng"}),
    ("lat=-inf&lng=113", {"lat"}),
    ("lat=abc&lng=113", {"lat"}),
    ("lat=&lng=113", {"lat"}),
    ("lng=113", {"lat"}),
    ("lat=23&lng=113&radius_m=50001", {"radius_m"}),
    ("lat=23&lng=113&radius_m=1e308", {"radius_m"}),
    ("lat=23&lng=113&limit=101", {"limit"}),
    ("lat=23&lng=113&limit=2.5", {"limit"}),
    ("lat=23&lng=113&limit=0", {"limit"}),
    ("lat=23&lng=113&facilities=wifi,jacuzzi", {"facilities"}),
    ("lat=23&lng=113&open_now=maybe", {"open_now"}),
    ("lat=%00&lng=" + "9" * 500, {"lat", "lng"}),
])
def test_bad_parameters_get_a_json_error_per_field(client, query, fields):
    response = conforms(client.get(f"/api/v1/stations/nearby?{query}"))
    assert response.status_code == 400 and response.is_json
    error = response.get_json()["error"]
    assert set(error["fields"]) == fields and error["message"]


def test_one_station_and_all_of_them_paged(client, make_station):
    ids = [make_station() for _ in range(3)]
    one = conforms(client.get(f"/api/v1/stations/{ids[1]}")).get_json()
    assert one["type"] == "Feature" and one["properties"]["id"] == ids[1]
    assert conforms(client.get("/api/v1/stations/999999")).status_code == 404
    first = conforms(client.get("/api/v1/stations?page_size=2")).get_json()
    assert [f["id"] for f in first["features"]] == ids[:2] and first["total"] == 3 and first["next"]
    second = conforms(client.get("/api/v1/stations?page=2&page_size=2")).get_json()
    assert [f["id"] for f in second["features"]] == ids[2:] and second["next"] is None
    assert conforms(client.get("/api/v1/stations?page_size=5000")).status_code == 400
