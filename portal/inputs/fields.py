"""The form fields for numbers and dates, reading through portal.inputs.parse: every portal form uses these
instead of WTForms' IntegerField and DateField (whose int() reads ² and ١٢٣ and any length, and whose strptime
takes year 1). A field's business range stays in its NumberRange validator; the parser guards the column."""

from __future__ import annotations

from wtforms import DateField, DateTimeLocalField, IntegerField

from portal.exceptions import InvalidInput
from portal.inputs import parse
from portal.services.sla import SHANGHAI


class WholeField(IntegerField):
    """A whole number of ASCII digits within the INTEGER column; an empty value is None."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _read(parse.whole, valuelist[0], self.name)


class DayField(DateField):
    """A date between 1900 and 2100, written 2026-11-01 (what <input type=date> sends) or 2026/11/01."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _read(parse.day, valuelist[0], self.name)


class BeijingMomentField(DateTimeLocalField):
    """<input type=datetime-local>, read as Beijing time: its data is an aware datetime in UTC, within 1900–2100."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%dT%H:%M", **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _read(lambda raw, name: parse.moment(raw, name, naive_is=SHANGHAI), valuelist[0], self.name)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") if self.data else ""


def _read(parser, raw: str, name: str):
    try:
        return parser(raw, name)
    except InvalidInput as error:  # WTForms shows a ValueError from processing beside the field
        raise ValueError(str(error.fields[name])) from None
