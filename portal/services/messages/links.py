"""The links text messages carry: short, signed, for one ticket, valid 72 hours.

A text message costs by its length (70 Chinese characters a part), so the token is packed: the ticket id, the
minute it expires and what it opens, with the first 12 bytes of an HMAC-SHA256 over them keyed from SECRET_KEY —
28 characters, where itsdangerous' JSON tokens need 80. Nothing is stored: any host with the key checks it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime, timedelta

from portal.exceptions import NotFound
from portal.settings import setting

LIFETIME = timedelta(hours=72)
PURPOSES = ("track", "rate")  # open the tracking page; open the one-tap rating page
_LAYOUT = struct.Struct(">IIB")  # ticket id, expiry in minutes since 1970, purpose
_MAC_BYTES = 12


def _mac(body: bytes) -> bytes:
    key = hashlib.sha256(b"portal message link\x00" + setting("SECRET_KEY").encode()).digest()
    return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def make(ticket_id: int, purpose: str, now: datetime) -> str:
    expires = int((now + LIFETIME).timestamp() // 60)
    body = _LAYOUT.pack(ticket_id, expires, PURPOSES.index(purpose))
    return base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


def read(token: str, now: datetime) -> tuple[int, str]:
    """(ticket id, purpose) of a link that is intact and unexpired; anything else is NotFound, told apart from
    nothing (a guessed, altered or old link looks the same)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise NotFound() from None
    body, mac = raw[:_LAYOUT.size], raw[_LAYOUT.size:]
    if len(raw) != _LAYOUT.size + _MAC_BYTES or not hmac.compare_digest(mac, _mac(body)):
        raise NotFound()
    ticket_id, expires, purpose = _LAYOUT.unpack(body)
    if purpose >= len(PURPOSES) or datetime.fromtimestamp(expires * 60, UTC) <= now:
        raise NotFound()
    return ticket_id, PURPOSES[purpose]
