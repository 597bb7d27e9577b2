"""The bottom navigation: the four worker areas, then sign-in, the account, or the staff's figures and workbench."""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import lazy_gettext as _l
from portal.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    icon: str  # name of an SVG symbol in templates/_icons.html


AREAS = (
    NavItem("grievances.index", _l("Submit"), "chat"),
    NavItem("tracking.index", _l("Track"), "search"),
    NavItem("stations.index", _l("Stations"), "home"),
    NavItem("members.index", _l("Member"), "card"),
)

# The big screen's figures beside the workbench: six items fit 360 px in English only with a word this short.
STAFF = (NavItem("dashboard.index", _l("Figures"), "f-list"), NavItem("staff.index", _l("Workbench"), "desk"))


def items(user) -> tuple[NavItem, ...]:
    if not user.is_authenticated:
        last = NavItem("accounts.login", _l("Sign in"), "user")
    elif user.role in (Role.STAFF, Role.ADMIN):
        return (*AREAS, *STAFF)
    elif user.role is Role.MERCHANT:
        last = NavItem("merchants.counter", _l("Counter"), "card")
    else:
        last = NavItem("accounts.profile", _l("Me"), "user")
    return (*AREAS, last)
