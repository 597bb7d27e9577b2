"""CSV files as administrators exchange them with Excel: UTF-8 with a byte-order mark, a header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from portal.exceptions import InvalidInput
from portal.i18n import lazy_gettext as _l

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page and garbles the Chinese


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
    return list(enumerate(reader, start=2))


def write(rows: Iterable[Iterable]) -> str:
    """The rows (the header first) as CSV text with the BOM."""
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out).writerows(rows)
    return out.getvalue()
