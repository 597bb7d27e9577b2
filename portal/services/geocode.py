"""Typed addresses to WGS-84 points through a Nominatim server (geopy), when one is configured.

Off by default: the portal may run where no geocoder is reachable, and region centres always work. Answers
are kept per process (an address means the same place all day), and any failure means "not found".
"""

from __future__ import annotations

from functools import lru_cache

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from portal.settings import setting


def enabled() -> bool:
    return setting("GEOCODER") == "nominatim"


def locate(address: str) -> tuple[float, float] | None:
    """The point of an address in China, or None when it is not found or the geocoder cannot be reached."""
    address = " ".join((address or "").split())[:100]
    if not address or not enabled():
        return None
    try:
        return _lookup(address, setting("GEOCODER_DOMAIN"), setting("GEOCODER_SCHEME"), setting("GEOCODER_USER_AGENT"),
                       float(setting("GEOCODER_TIMEOUT")))
    except (GeopyError, OSError, ValueError):
        return None  # unreachable or refused: not kept, so the next search asks again


@lru_cache(maxsize=2048)
def _lookup(address: str, domain: str, scheme: str, agent: str, timeout: float) -> tuple[float, float] | None:
    """An answer, found or not, is kept; a failure raises and so is not."""
    found = Nominatim(domain=domain, scheme=scheme, user_agent=agent, timeout=timeout).geocode(
        address, country_codes="cn", language="zh-CN")
    return (found.latitude, found.longitude) if found else None
