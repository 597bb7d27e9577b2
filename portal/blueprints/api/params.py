"""Query parameters of the JSON API, read strictly: every problem is named per field in one 400 answer."""

from __future__ import annotations

import math

from portal.exceptions import InvalidInput
from portal.i18n import lazy_gettext as _l
from portal.services import stations


class Params:
    """Reads request.args, collecting a message per bad field; `check()` raises them all at once."""

    def __init__(self, args):
        self.args, self.errors = args, {}

    def number(self, name: str, low: float, high: float, default: float | None = None) -> float | None:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            if default is None:
                self.errors[name] = _l("Required.")
            return default
        try:
            value = float(raw[:40])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # "abc", "NaN", "Infinity" alike
            self.errors[name] = _l("Must be a number.")
            return default
        if not low <= value <= high:
            self.errors[name] = _l("Must be between %(low)s and %(high)s.", low=f"{low:g}", high=f"{high:g}")
            return default
        return value

    def whole(self, name: str, low: int, high: int, default: int) -> int:
        value = self.number(name, low, high, default)
        if value is not None and value != int(value):
            self.errors[name] = _l("Must be a whole number.")
        return int(value) if value is not None else default

    def flag(self, name: str) -> bool:
        raw = (self.args.get(name) or "").strip().lower()
        if raw not in ("", "0", "1", "true", "false"):
            self.errors[name] = _l("Must be 1 or 0.")
        return raw in ("1", "true")

    def facilities(self, name: str = "facilities") -> int:
        try:
            return stations.mask_of(c.strip() for c in (self.args.get(name) or "").split(",") if c.strip())
        except InvalidInput as error:
            self.errors[name] = error.message
            return 0

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(fields=self.errors)
