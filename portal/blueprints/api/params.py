"""Query parameters of the JSON API, read strictly by portal.inputs.parse: every problem is named per field in one
400 answer."""

from __future__ import annotations

from portal.exceptions import InvalidInput
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.services import stations


class Params:
    """Reads request.args, collecting a message per bad field; `check()` raises them all at once."""

    def __init__(self, args):
        self.args, self.errors = args, {}

    def number(self, name: str, low: float, high: float, default: float | None = None) -> float | None:
        value = self._read(parse.number, name, low, high, required=default is None)
        return default if value is None else value

    def whole(self, name: str, low: int, high: int, default: int) -> int:
        value = self._read(parse.whole, name, low, high)
        return default if value is None else value

    def _read(self, parser, name: str, *args, **kwargs):
        try:
            return parser(self.args.get(name), name, *args, **kwargs)
        except InvalidInput as error:
            self.errors |= error.fields
            return None

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
