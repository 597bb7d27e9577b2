"""Ticket numbers and query codes.

A number (44-20261120-0007) names a ticket aloud; the query code proves it is yours. The code is derived from
the form token with the secret key, so a retried submission shows the same code again although only its hash
is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.exceptions import NotFound
from portal.extensions import db
from portal.models import Counter, Ticket
from portal.services import sla
from portal.settings import setting

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 16  # 80 bits
MAX_NUMBER = 24
NUMBER = re.compile(r"[0-9A-Z-]+")  # 44-20261120-0007: ASCII only (str.isdigit takes ² and ١)
_DUMMY_HASH = "0" * 64


def query_code_for(token: str) -> str:
    """The worker's query code for the submission made with this form token."""
    digest = hmac.new(setting("SECRET_KEY").encode(), b"query-code:" + token.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:10])
    chars = [CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH)]
    return "-".join("".join(chars[i:i + 4]) for i in range(0, CODE_LENGTH, 4))


def normalise_code(raw: str) -> str:
    """Case-insensitive, spaces and dashes ignored, and the look-alikes O→0, I/L→1 read as Crockford does."""
    text = re.sub(r"[\s\-]", "", (raw or "").upper()).translate(str.maketrans("OIL", "011"))
    return text if len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text) else ""


def code_hash(code: str) -> str:
    """What is stored of a query code: its SHA-256, never the code."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def matches(ticket: Ticket | None, code: str) -> bool:
    """Whether `code` is this ticket's query code; as slow for no ticket as for a wrong code."""
    stored = ticket.query_code_hash if ticket is not None else _DUMMY_HASH
    return hmac.compare_digest(stored, code_hash(code)) and ticket is not None and bool(normalise_code(code))


def as_number(raw: str | None) -> str:
    """A ticket number as typed or linked: spaces around it and the case of its letters do not matter. Anything
    that cannot be a number (a NUL byte, which PostgreSQL refuses in a query, Unicode digits, any other
    character) is "", which names no ticket."""
    number = (raw or "").strip().upper()[:MAX_NUMBER]
    return number if NUMBER.fullmatch(number) else ""


def get_by_number(number: str) -> Ticket:
    """The ticket with this number, whoever asks: callers check access (portal.services.tickets.access)."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == as_number(number)))
    if ticket is None:
        raise NotFound()
    return ticket


def next_number(now: datetime) -> str:
    """A readable ticket number, e.g. 44-20261120-0007: root region, Shanghai date, that day's sequence."""
    day = sla.local_date(now).strftime("%Y%m%d")
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    statement = (insert(Counter).values(name=f"ticket:{day}", value=1)
                 .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
                 .returning(Counter.value))
    sequence = db.session.execute(statement).scalar_one()
    return f"{setting('ROOT_REGION')}-{day}-{sequence:04d}"
