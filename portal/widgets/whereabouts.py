"""Where the worker is, for the station and merchant finders: the phone's location or the centre of a place
chosen in the region picker, and how far to look (templates/widgets/_whereabouts.html shows the fields)."""

from __future__ import annotations

from dataclasses import dataclass

from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import Optional

from portal import vocabulary
from portal.forms import Form
from portal.i18n import lazy_gettext as _l
from portal.services import regions

RADII = (1_000, 3_000, 5_000, 10_000, 20_000, 50_000)
DEFAULT_RADIUS = 5_000


@dataclass(frozen=True)
class Origin:
    lat: float
    lng: float
    label: str  # "your location" or the place chosen
    centre: str = ""  # the place whose centre the point is, when it is not where the worker stands


class WhereaboutsForm(Form):
    """A finder's question (GET: it changes nothing, so no CSRF): the phone's point and the search radius."""

    class Meta:
        csrf = False

    lat = HiddenField()
    lng = HiddenField()
    radius = SelectField(_l("Within"), choices=[SelectChoice(str(r), _l("%(km)d km", km=r // 1000)) for r in RADII],
                         default=str(DEFAULT_RADIUS), validators=[Optional()])

    def radius_m(self) -> int:
        """An unknown radius in a shared link falls back to the default, not to an error."""
        return int(self.radius.data) if self.radius.data in {str(r) for r in RADII} else DEFAULT_RADIUS


def centre_of(place) -> Origin | None:
    """The centre of a chosen place; towns have no centroid, so their district's (or city's) is used."""
    for p in reversed(regions.ancestry(place.code) if place is not None else []):
        if p.lat is not None and p.lng is not None:
            return Origin(p.lat, p.lng, vocabulary.place_name(place), vocabulary.place_name(p))
    return None
