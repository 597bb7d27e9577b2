"""CSV files as administrators exchange them with Excel: UTF-8 with a byte-order mark, a header row.

A cell of text that begins with =, +, -, @, a tab or a carriage return would be a live formula when Excel opens
the file (a station manager types `=HYPERLINK(…)`): as OWASP's CSV-injection guidance says, such a cell is
written with a leading apostrophe, and read back without it, so an export imports again unchanged. Numbers, and
text that is a plain number (-12.5), stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from portal.exceptions import InvalidInput
from portal.i18n import lazy_gettext as _l

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page and garbles the Chinese
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
QUOTE = "'"


def safe_cell(value):
    """The cell as it may stand in a file opened by a spreadsheet: never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return QUOTE + value
    return value


def _unquoted(value):
    """What safe_cell wrote, read back as it was typed."""
    if isinstance(value, str) and value.startswith(QUOTE) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def read(content: bytes, columns: Sequence[str]) -> list[tuple[int, dict]]:
    """(line number, fields) per data row; the BOM is optional, and every one of `columns` must be there."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_l("The file is not UTF-8 text. Save it from Excel as CSV UTF-8.")) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = set(columns) - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(_l("Columns missing: %(names)s", names=", ".join(sorted(missing))))
    return [(n, {k: _unquoted(v) for k, v in row.items()}) for n, row in enumerate(reader, start=2)]


def write(rows: Iterable[Iterable]) -> str:
    """The rows (the header first) as CSV text with the BOM."""
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out).writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
