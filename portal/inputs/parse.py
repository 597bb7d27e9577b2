"""The parsers every value from outside goes through, whatever carried it (a path, a query, a form, a JSON body).

Each takes the raw value and the name of the field it came in, and returns the value, None for an optional value
left empty, or raises InvalidInput naming that field with a sentence for the person who sent it. They know the
limits of where a value goes, so nothing past them can make a 500:
- whole numbers are ASCII digits within the INTEGER column (Python's int() also reads ² and ١٢٣, and PostgreSQL
  refuses anything beyond 2^31 − 1);
- numbers are finite (no NaN, no Infinity, no 1e400);
- dates lie between 1900 and 2100, and a date and time carries its offset, so converting it can never overflow
  (year 1 at +08:00 is before datetime's first instant);
- text is NFC (the same name typed on two phones compares equal), without NUL (PostgreSQL refuses it) or a lone
  surrogate (not UTF-8 at all), and within its length once normalised;
- a JSON body is an object of at most 32 levels (Python's parser recurses; a few thousand `[` exhaust the stack)
  without NaN, Infinity or a key given twice.
Free of Flask, so services may read what a channel sends with the same rules.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import UTC, date, datetime
from itertools import accumulate

from portal.exceptions import InvalidInput
from portal.i18n import lazy_gettext as _l

INT32_MAX = 2**31 - 1  # SQLAlchemy's Integer: PostgreSQL INTEGER, SQLite's integer read back the same
INT32_MIN = -(2**31)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)
MAX_JSON_DEPTH = 32

WHOLE = re.compile(r"[+-]?[0-9]{1,20}")
NUMBER = re.compile(r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

REQUIRED = _l("Required.")
UNKNOWN_FIELD = _l("Unknown field.")
UNSTORABLE_MESSAGE = _l("This contains a character that cannot be kept (a control character or a broken one). "
                        "Please remove it.")


def _refuse(field: str, message) -> InvalidInput:
    return InvalidInput(fields={field: message})


def _present(raw, field: str, required: bool) -> str | None:
    """The raw value as stripped text, or None when it is empty and may be."""
    if raw is not None and not isinstance(raw, str):
        raise _refuse(field, _l("Must be text."))
    text = (raw or "").strip()
    if not text:
        if required:
            raise _refuse(field, REQUIRED)
        return None
    return text


def whole(raw: str | None, field: str, low: int = INT32_MIN, high: int = INT32_MAX, *,
          required: bool = False) -> int | None:
    """A whole number of ASCII digits from `low` to `high` (by default the range of an INTEGER column)."""
    text = _present(raw, field, required)
    if text is None:
        return None
    if not WHOLE.fullmatch(text):
        raise _refuse(field, _l("Must be a whole number."))
    value = int(text)
    if not max(low, INT32_MIN) <= value <= min(high, INT32_MAX):
        raise _refuse(field, _l("A whole number from %(low)d to %(high)d.", low=max(low, INT32_MIN),
                                high=min(high, INT32_MAX)))
    return value


def number(raw: str | None, field: str, low: float, high: float, *, required: bool = False) -> float | None:
    """A finite decimal number of ASCII digits from `low` to `high`."""
    text = _present(raw, field, required)
    if text is None:
        return None
    value = float(text) if NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(value):  # "abc", "NaN", "Infinity", "1e400" alike
        raise _refuse(field, _l("Must be a number."))
    if not low <= value <= high:
        raise _refuse(field, _l("Must be between %(low)s and %(high)s.", low=f"{low:g}", high=f"{high:g}"))
    return value


def day(raw: str | None, field: str, *, required: bool = False) -> date | None:
    """A calendar date written 2026-11-01 (or 2026/11/01), between 1900 and 2100."""
    text = _present(raw, field, required)
    if text is None:
        return None
    text = text.replace("/", "-")
    try:
        value = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        value = None
    if value is None or not FIRST_DAY <= value <= LAST_DAY:
        raise _refuse(field, _l("Enter a date between 1900 and 2100, for example 2026-11-01."))
    return value


def moment(raw: str | None, field: str, *, required: bool = False, naive_is=UTC) -> datetime | None:
    """An ISO 8601 date and time between 1900 and 2100, as an aware datetime in UTC. One without an offset is
    read in `naive_is` (UTC, as GeoReport's partners expect); one at 0001-01-01 or 9999-12-31 is refused
    before any conversion could overflow."""
    text = _present(raw, field, required)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if MOMENT.fullmatch(text) else None
    except ValueError:
        value = None
    if value is None or not FIRST_DAY <= value.date() <= LAST_DAY:
        raise _refuse(field, _l("Enter a date and time between 1900 and 2100, for example 2026-11-01T08:00:00+08:00."))
    return (value if value.tzinfo else value.replace(tzinfo=naive_is)).astimezone(UTC)


def text(raw: str | None, field: str, max_length: int, *, required: bool = False, strip: bool = True) -> str:
    """Text to store: NFC, no NUL or lone surrogate, at most `max_length` characters. Empty gives ""."""
    if raw is not None and not isinstance(raw, str):
        raise _refuse(field, _l("Must be text."))
    value = storable(raw or "", field)
    value = value.strip() if strip else value
    if not value and required:
        raise _refuse(field, REQUIRED)
    if len(value) > max_length:
        raise _refuse(field, _l("Use at most %(num)d characters.", num=max_length))
    return value


def storable(raw: str, field: str) -> str:
    """`raw` in NFC, or InvalidInput when it holds what no database keeps (NUL, a lone surrogate)."""
    if UNSTORABLE.search(raw):
        raise _refuse(field, UNSTORABLE_MESSAGE)
    return unicodedata.normalize("NFC", raw)


# ---------------------------------------------------------------------------------------------------- JSON

def json_object(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """The JSON object in `data` (UTF-8): any other value, NaN, Infinity, a key given twice, nesting deeper than
    `max_depth`, or a string with NUL or a lone surrogate is refused, naming the field where there is one."""
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_l("Send a JSON object, in UTF-8.")) from None
    if _depth(source) > max_depth:
        raise InvalidInput(_l("The JSON is nested more than %(num)d levels deep.", num=max_depth))
    try:
        body = json.loads(source, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise InvalidInput(_l("Send a JSON object.")) from None
    if not isinstance(body, dict):
        raise InvalidInput(_l("Send a JSON object."))
    _check_strings(body, "")
    return body


def _depth(source: str) -> int:
    """How deep the arrays and objects nest, counted without parsing (brackets inside strings do not count)."""
    brackets = [1 if c in "[{" else -1 for c in JSON_STRING.sub("", source) if c in "[]{}"]
    return max(accumulate(brackets), default=0)


def _no_constant(name: str):
    raise ValueError(name)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    body = dict(pairs)
    if len(body) != len(pairs):
        raise ValueError("duplicate key")
    return body


def _check_strings(value, path: str) -> None:
    if isinstance(value, str):
        storable(value, path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key, path or "body")
            _check_strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]")


def field_whole(body: dict, name: str, low: int, high: int, *, required: bool = True) -> int | None:
    """A JSON number that is whole: true, 1.0 and "100" are refused (bool is an int in Python)."""
    value = body.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not max(low, INT32_MIN) <= value <= min(high, INT32_MAX):
        raise _refuse(name, _l("A whole number from %(low)d to %(high)d.", low=low, high=high))
    return value


def field_text(body: dict, name: str, max_length: int, *, required: bool = True) -> str | None:
    """A JSON string (an array or an object where text belongs is refused, not stored as its Python text)."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _refuse(name, _l("Must be text."))
    return text(value, name, max_length, required=required)
