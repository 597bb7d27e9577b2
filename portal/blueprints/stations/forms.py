"""The station finder's question (GET: it changes nothing, so no CSRF) and the station managers' forms."""

from __future__ import annotations

from datetime import datetime

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.exceptions import InvalidInput
from portal.forms import Form
from portal.i18n import lazy_gettext as _l
from portal.inputs.fields import BeijingMomentField
from portal.services import geo, geocode, station_files, stations
from portal.vocabulary import FACILITY_LABELS, WEEKDAY_LABELS
from portal.widgets.whereabouts import DEFAULT_RADIUS, Origin, WhereaboutsForm, centre_of


class OnUnlessOff(BooleanField):
    """"Open now", on by default: the form sends a hidden open=n before the checkbox's open=y, so a tap that
    clears the box asks for every station, while a link without the parameter (shared, or the first visit)
    means the default, open stations only."""

    def process_formdata(self, valuelist):
        self.data = not valuelist or "y" in valuelist

    def process_data(self, value):
        self.data = True if value is None else bool(value)


class FindForm(WhereaboutsForm):
    f = SelectMultipleField(_l("Facilities I need"), choices=[SelectChoice(f.code, FACILITY_LABELS[f.code])
                                                               for f in stations.FACILITIES.values()],
                            widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                            validators=[Optional()])
    open = OnUnlessOff(_l("Open now"))
    view = HiddenField()
    address = StringField(_l("Or type an address"), validators=[Length(max=100)])

    def facilities(self) -> int:
        """Unknown facility codes in a shared link are dropped, not refused."""
        return stations.mask_of([c for c in self.f.data or [] if c in stations.FACILITIES])

    def origin(self, place) -> Origin | None:
        """The phone's location when it was shared and is a real point, else the centre of the place chosen."""
        lat, lng = geo.degrees(self.lat.data, 90), geo.degrees(self.lng.data, 180)
        if lat is not None and lng is not None:
            return Origin(lat, lng, str(_l("your location")))
        found = geocode.locate(self.address.data or "")
        if found is not None:
            return Origin(*found, (self.address.data or "").strip()[:100])
        if self.address.data and geocode.enabled():
            self.address.errors = [str(_l("We could not find this address. Choose a city or district instead."))]
        return centre_of(place)

    def filters_on(self) -> int:
        """How many filters narrow the list, for the one control that holds them."""
        return len([c for c in self.f.data or [] if c in stations.FACILITIES]) + bool(self.open.data) + (
            self.radius_m() != DEFAULT_RADIUS)


class ReportForm(Form):
    """"Is this information correct?" on the public page."""

    correct = HiddenField()
    problem = StringField(_l("What is wrong?"), validators=[Length(max=500)])


class ManagerForm(Form):
    """The CSRF token of the managers' one-click actions; `present` says on or off for a facility."""

    present = HiddenField()


HALF_HOURS = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]


class HoursForm(Form):
    """The week: one of the common patterns chosen (radio and selects, so nothing to mistype and no script
    needed), or each day typed. A pattern replaces what the days say; the typed days stay for anything else."""

    pattern = RadioField(_l("The same every week"), default="", validators=[Optional()], choices=[
        SelectChoice("", _l("As typed for each day below")),
        SelectChoice("all_day", _l("Open 24 hours, every day")),
        SelectChoice("every_day", _l("Every day, from and to the times chosen")),
        SelectChoice("weekdays", _l("Monday to Friday, from and to the times chosen; closed at the weekend"))])
    opens = SelectField(_l("Opens at"), choices=HALF_HOURS, default="08:00")
    closes = SelectField(_l("Closes at"), choices=[*HALF_HOURS, "24:00"], default="18:00")
    mon = StringField(WEEKDAY_LABELS["mon"], validators=[Length(max=60)])
    tue = StringField(WEEKDAY_LABELS["tue"], validators=[Length(max=60)])
    wed = StringField(WEEKDAY_LABELS["wed"], validators=[Length(max=60)])
    thu = StringField(WEEKDAY_LABELS["thu"], validators=[Length(max=60)])
    fri = StringField(WEEKDAY_LABELS["fri"], validators=[Length(max=60)])
    sat = StringField(WEEKDAY_LABELS["sat"], validators=[Length(max=60)])
    sun = StringField(WEEKDAY_LABELS["sun"], validators=[Length(max=60)])
    holiday_note = StringField(_l("Holidays"), validators=[Length(max=200)])

    @classmethod
    def for_station(cls, station) -> HoursForm:
        """The station's week typed out; its times in the selects when the week is a pattern's."""
        _, opens, closes = stations.pattern_of(station.hours) or ("", "", "")
        return cls(data={day: stations.hours_text(station.hours.get(day, [])) for day in stations.WEEKDAYS}
                   | {"holiday_note": station.holiday_note, "pattern": "", "opens": opens or "08:00",
                      "closes": closes or "18:00"})

    def weekly(self) -> dict[str, list[list[str]]]:
        if self.pattern.data:
            return stations.pattern_week(self.pattern.data, self.opens.data, self.closes.data)
        return stations.hours_from_text({day: self[day].data for day in stations.WEEKDAYS})


class ClosureForm(Form):
    until = BeijingMomentField(_l("Closed until"), validators=[Optional()])
    reason = StringField(_l("Why"), validators=[Length(max=200)])
    reopen = HiddenField()

    def until_utc(self) -> datetime | None:
        """The moment typed, read as Beijing time; none when reopening."""
        if self.reopen.data == "yes" or self.until.data is None:
            return None
        return self.until.data


class ImportForm(Form):
    file = FileField(_l("CSV or GeoJSON file"), validators=[FileRequired()])

    def rows(self) -> list[tuple[int, dict, dict]]:
        """The file's rows, read by its content: JSON starts with "{", anything else is read as CSV."""
        content = self.file.data.read(station_files.MAX_BYTES + 1)
        if len(content) > station_files.MAX_BYTES:
            raise InvalidInput(_l("The file is larger than 20 MB."))
        if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return station_files.read_geojson(content)
        return station_files.read_csv(content)
