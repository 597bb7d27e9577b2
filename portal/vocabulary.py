"""Display names of domain values, defined once for templates, forms and exports."""

from flask_babel import lazy_gettext as _l

from portal.models import RegionLevel, Role

ROLE_LABELS = {
    Role.MEMBER: _l("Union member"),
    Role.STATION_MANAGER: _l("Station manager"),
    Role.MERCHANT: _l("Merchant staff"),
    Role.STAFF: _l("Union staff"),
    Role.ADMIN: _l("Administrator"),
}

LEVEL_LABELS = {
    RegionLevel.PROVINCE: _l("Province"),
    RegionLevel.CITY: _l("City"),
    RegionLevel.DISTRICT: _l("District or county"),
    RegionLevel.TOWN: _l("Town or street"),
}

# What a worker may send, with the reply deadline the union commits to (working days).
REQUEST_KINDS = (
    (_l("Consultation"), _l("Questions about labour law, contracts, pay or insurance."), 5),
    (_l("Suggestion"), _l("Ideas for the union's work and services."), 5),
    (_l("Request for help"), _l("Hardship, psychological or legal help for you or your family."), 20),
    (_l("Appeal or complaint"), _l("Unpaid wages, dismissal, work injury, overtime and other disputes."), 20),
)


def union_name(region) -> str:
    """The union that acts for a region, e.g. 广州市总工会."""
    return _l("%(region)s Federation of Trade Unions", region=region.name)
