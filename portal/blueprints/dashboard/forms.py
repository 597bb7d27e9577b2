"""The screen's question (GET, and it changes nothing, so no CSRF): which region, which period, which level of
the category breakdown. The same arguments build every link on the screen and its poller."""

from __future__ import annotations

from datetime import datetime

from wtforms import HiddenField, StringField

from portal.exceptions import InvalidInput
from portal.forms import Form
from portal.i18n import lazy_gettext as _l
from portal.services import stats

ARGUMENTS = ("region", "period", "first", "last", "path")


class ScreenForm(Form):
    """Never validated as a form: `stats.scope_of` judges the region, `stats.period` the dates (with the
    messages shown), and `stats.breakdown` shows the kinds for a path it does not know."""

    class Meta:
        csrf = False

    region = HiddenField()
    period = HiddenField(default="month")
    first = StringField(_l("From"))
    last = StringField(_l("To"))
    path = HiddenField()

    def chosen(self, now: datetime) -> stats.Period:
        """The period asked for; InvalidInput, with a message for the field at fault, when it is not one."""
        return stats.period(self.period.data or "", self.first.data or "", self.last.data or "", now)

    def chosen_or_shown(self, now: datetime) -> stats.Period | None:
        """The period asked for, or None with the reason shown beside the dates (the period choice, a hidden
        field, shows its reason above them)."""
        try:
            return self.chosen(now)
        except InvalidInput as error:
            self.show_error(error)
            return None

    def args(self, **changes) -> dict[str, str]:
        """This screen's query arguments with `changes`: the dates only for a range, nothing empty."""
        values = {name: (self[name].data or "").strip() for name in ARGUMENTS} | {
            k: v or "" for k, v in changes.items()}
        if values["period"] != "range":
            values["first"] = values["last"] = ""
        if values["period"] == "month":
            values["period"] = ""  # the default: shorter links
        return {k: v for k, v in values.items() if v}
