"""Workers' mobile numbers at rest: encrypted with the messages key (Fernet, from `cryptography`), and found again by
a keyed hash, so neither a database dump nor a staff screen shows a number, and nothing outside the portal can tell
which numbers are stored. The key is MESSAGES_KEY (generated into instance/messages_key when unset)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from portal.settings import setting


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    """The cipher and the hash key, each derived from the one configured secret for its own purpose."""
    raw = secret.encode()
    cipher = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"portal phone cipher\x00" + raw).digest()))
    return cipher, hashlib.sha256(b"portal phone hash\x00" + raw).digest()


def seal(phone: str) -> str:
    return _keys(setting("MESSAGES_KEY"))[0].encrypt(phone.encode()).decode()


def unseal(cipher: str) -> str | None:
    """The number, or None when it cannot be read (another key): such a message is refused, not sent astray."""
    try:
        return _keys(setting("MESSAGES_KEY"))[0].decrypt(cipher.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def hash_of(phone: str) -> str:
    return hmac.new(_keys(setting("MESSAGES_KEY"))[1], phone.encode(), hashlib.sha256).hexdigest()


def masked(phone: str) -> str:
    """138****5678: enough for the worker to recognise their own number on their own page."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"
