"""Path integers: every `<int:…>` in a URL is an id of an INTEGER column, so it must be ASCII digits and at most
2^31 − 1. Werkzeug's own converter matches `\\d`, which takes Unicode digits (superscript ², Arabic-Indic ١٢٣)
that `int()` then reads, and any length, which PostgreSQL refuses beyond its INTEGER ("integer out of range", a
500). Beyond the range a URL names nothing: 404.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from portal.inputs.parse import INT32_MAX


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits only, 0 to INT32_MAX unless a rule sets its own max."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT32_MAX,  # noqa: A002
                 signed: bool = False) -> None:
        bounded = INT32_MAX if max is None or max > INT32_MAX else max
        super().__init__(map, fixed_digits, min, bounded, signed)


def register(app) -> None:
    """Before any blueprint adds its rules: the converter is chosen when a rule is added. An empty path segment is
    a 404, not a redirect: Werkzeug would merge "/track//texts" into "/track/texts", a ticket named "texts"."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.merge_slashes = False
