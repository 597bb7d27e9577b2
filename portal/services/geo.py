"""Coordinate datums. We store WGS-84 (what GPS and the W3C geolocation API give); Chinese map services use
GCJ-02 (AutoNavi/Amap, Tencent), an obfuscated datum offset by a few hundred metres on the mainland."""

from __future__ import annotations

import math
from urllib.parse import quote

from geographiclib.geodesic import Geodesic

from portal.exceptions import InvalidInput
from portal.inputs import parse

_KRASOVSKY_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 defines it
_EE = 0.00669342162296594323


def degrees(value, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) read from a form, a file or a query string: None unless
    it is a finite number of degrees within ±limit ("abc", "NaN", "Infinity", "١٢" and 91 alike)."""
    try:
        return parse.number(None if value is None else str(value)[:60], "degrees", -limit, limit)
    except InvalidInput:
        return None


def in_mainland(lat: float, lng: float) -> bool:
    """GCJ-02 offsets apply only inside this box; elsewhere the datums coincide."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347


def _delta(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_mainland(lat, lng):
        return lat, lng
    dlat, dlng = _delta(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration: converges to well under a millimetre in a few steps."""
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """Baidu's BD-09 is a further offset of GCJ-02."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


SOURCE = "worker-service-portal"  # the caller name the map services ask links to carry
_HERE, _CHINA = quote("我的位置"), quote("全国")


def navigation_links(lat: float, lng: float, name: str) -> dict[str, str]:
    """Walking directions to a WGS-84 point in the three map apps workers use, each given the point in the
    datum it expects (a WGS-84 point passed as is lands hundreds of metres off). Each link opens the app
    where it is installed and the web map otherwise. (Built by hand: urlencode was half an API answer's time.)"""
    glat, glng = wgs84_to_gcj02(lat, lng)
    blat, blng = wgs84_to_bd09(lat, lng)
    label = quote(name, safe="")
    return {
        "amap": f"https://uri.amap.com/navigation?to={glng:.6f}%2C{glat:.6f}%2C{label}&mode=walk&coordinate=gaode"
                f"&callnative=1&src={SOURCE}",
        "baidu": f"https://api.map.baidu.com/direction?origin={_HERE}&destination=latlng%3A{blat:.6f}%2C{blng:.6f}"
                 f"%7Cname%3A{label}&mode=walking&coord_type=bd09ll&region={_CHINA}&output=html&src={SOURCE}",
        "tencent": f"https://apis.map.qq.com/uri/v1/routeplan?type=walk&fromcoord=CurrentLocation&to={label}"
                   f"&tocoord={glat:.6f}%2C{glng:.6f}&policy=0&referer={SOURCE}",
    }


# ---------------------------------------------------------------------------------------- distances

_SPHERE_M = 6_371_008.8
_SPHERE_ERROR = 0.0056  # the sphere's distance is within 0.56 % of the geodesic's, either way
_A, _F = 6_378_137.0, 1 / 298.257223563  # the WGS-84 ellipsoid
_B = _A * (1 - _F)


def geodesic_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Distance on the WGS-84 ellipsoid by Vincenty's inverse formula: within half a millimetre of Karney's
    algorithm (geopy's `geodesic`) and four times faster in pure Python. Nearly antipodal points, where
    Vincenty's iteration does not converge, go to Karney's algorithm itself."""
    if lat1 == lat2 and lng1 == lng2:
        return 0.0
    u1, u2 = math.atan((1 - _F) * math.tan(math.radians(lat1))), math.atan((1 - _F) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lng_diff = lam = math.radians(lng2 - lng1)
    for _ in range(100):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha * sin_alpha
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = lng_diff + (1 - c) * _F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)))
        if abs(lam - previous) < 1e-12:
            break
    else:
        return Geodesic.WGS84.Inverse(lat1, lng1, lat2, lng2, Geodesic.DISTANCE)["s12"]
    usq = cos2_alpha * (_A * _A - _B * _B) / (_B * _B)
    big_a = 1 + usq / 16384 * (4096 + usq * (-768 + usq * (320 - 175 * usq)))
    big_b = usq / 1024 * (256 + usq * (-128 + usq * (74 - 47 * usq)))
    delta = big_b * sin_sigma * (cos_2sm + big_b / 4 * (
        cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)
        - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma * sin_sigma) * (-3 + 4 * cos_2sm * cos_2sm)))
    return _B * big_a * (sigma - delta)


def _sphere_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * _SPHERE_M * math.asin(min(1.0, math.sqrt(a)))


def box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """A latitude/longitude box that surely holds every point within radius_m (degrees of latitude are at
    least 110.5 km long; a degree of longitude shrinks with the cosine of the farthest latitude)."""
    dlat = radius_m / 110_000
    far = min(89.9, abs(lat) + dlat)
    dlng = min(180.0, radius_m / (111_000 * math.cos(math.radians(far))))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def rank(lat: float, lng: float, rows, radius_m: float, limit: int) -> list[tuple[float, int]]:
    """(geodesic metres, id) of the rows (each with .id, .lat, .lng) within radius_m, nearest first.

    Candidates are ranked by a spherical distance (a microsecond each); the exact geodesic is computed only
    for those that can still be among the nearest `limit`: the sphere is never more than 0.56 % off."""
    ranked = sorted(((_sphere_m(lat, lng, r.lat, r.lng), r) for r in rows), key=lambda pair: pair[0])
    exact: list[tuple[float, int]] = []
    for rough, row in ranked:
        if rough > radius_m * (1 + _SPHERE_ERROR):
            break
        if len(exact) >= limit and rough * (1 - _SPHERE_ERROR) > exact[limit - 1][0]:
            break  # no later candidate can be nearer than the farthest of the nearest `limit`
        distance = geodesic_m(lat, lng, row.lat, row.lng)
        if distance <= radius_m:
            exact.append((distance, row.id))
            exact.sort()
    return exact[:limit]
