"""Coordinate datums. We store WGS-84 (what GPS and the W3C geolocation API give); Chinese map services use
GCJ-02 (AutoNavi/Amap, Tencent), an obfuscated datum offset by a few hundred metres on the mainland."""

from __future__ import annotations

import math
from urllib.parse import quote

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 defines it
_EE = 0.00669342162296594323


def degrees(value, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) read from a form, a file or a query string: None unless
    it is a finite number of degrees within ±limit ("abc", "NaN", "Infinity" and 91 alike)."""
    try:
        number = float(str(value)[:30]) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


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
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
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


