"""Display names of domain values, defined once for templates, forms and exports.

Services keep the codes and the rules (portal.services.taxonomy the categories and their keywords,
portal.services.stations the facilities' bits); the names people read are here, keyed by those codes. This
module imports nothing from the services but the pure portal.services.place_names, so any service may read a
name from it (Open311, CSV exports).
"""

import flask_babel
from flask_babel.speaklater import LazyString

from portal.i18n import lazy_gettext as _l
from portal.models import (
    Channel,
    Kind,
    LimitPeriod,
    MembershipStatus,
    MerchantCategory,
    NoticeKind,
    OfferKind,
    Rating,
    Role,
    StationKind,
    Status,
)
from portal.services.place_names import english_place_name

ROLE_LABELS = {
    Role.MEMBER: _l("Union member"),
    Role.STATION_MANAGER: _l("Station manager"),
    Role.MERCHANT: _l("Merchant staff"),
    Role.STAFF: _l("Union staff"),
    Role.ADMIN: _l("Administrator"),
}


def place_name(region) -> str:
    """A region's name in the reader's language: the official Chinese name (天河区), or in English its
    romanised form (Tianhe District). Station and merchant names are shown as entered, never through this."""
    locale = flask_babel.get_locale()
    if locale is not None and locale.language == "en":
        return english_place_name(region.name, region.level)
    return region.name


def union_name(region) -> str:
    """The union that acts for a region, e.g. 广州市总工会, "Guangzhou Federation of Trade Unions"."""
    return _l("%(region)s Federation of Trade Unions", region=LazyString(place_name, region))


STATUS_LABELS = {
    Status.SUBMITTED: _l("Submitted"),
    Status.ACCEPTED: _l("Accepted"),
    Status.DISPATCHED: _l("Passed to a local union"),
    Status.IN_PROGRESS: _l("Being handled"),
    Status.RETURNED_UP: _l("Passed back up"),
    Status.EXTENSION_REQUESTED: _l("Being handled, more time asked for"),  # in hand, a later deadline asked for
    Status.REPLIED: _l("Answered"),
    Status.RETURN_VISIT: _l("Return visit done"),
    Status.AWAITING_PROMISE: _l("Waiting for the promised action"),
    Status.REOPENED: _l("Being handled again"),
    Status.CLOSED: _l("Closed"),
    Status.WITHDRAWN: _l("Withdrawn"),
    Status.MERGED: _l("Merged with another request"),
}

# One sentence per step of the history, as the worker reads it; %(union)s is the union that acted or
# received the case.
EVENT_SENTENCES = {
    "submitted": _l("Your request reached %(union)s."),
    "accepted": _l("%(union)s accepted your request."),
    "dispatched": _l("Passed to %(union)s, closer to you."),
    "returned_up": _l("Passed back to %(union)s."),
    "reported_up": _l("The result was reported to %(union)s."),
    "replied": _l("%(union)s answered:"),
    "more_information_asked": _l("%(union)s asks you for more information:"),
    "extension_approved": _l("More time was granted to look into it."),
    "rated": _l("You rated the answer."),
    "return_visit": _l("The union called you back."),
    "closed": _l("The case was closed."),
    "withdrawn": _l("You withdrew the request."),
    "merged": _l("Merged with request %(number)s about the same matter."),
    "information_added": _l("You added information:"),
    "reopened": _l("%(union)s is handling your request again."),
    "reopened_with_information": _l("You added information, so your request is handled again:"),
    "followed_up": _l("You wrote again after the case was closed: it continues as request %(number)s."),
}

RATING_LABELS = {
    Rating.SATISFIED: _l("Satisfied"),
    Rating.BASICALLY_SATISFIED: _l("Basically satisfied"),
    Rating.UNSATISFIED: _l("Unsatisfied"),
}


def event_sentence(event) -> str:
    """A step of the history in plain words, naming the union that acted or received the case."""
    region = event.target_region if event.action in {"submitted", "dispatched", "returned_up", "reported_up"} \
        else event.actor_region
    union = union_name(region) if region is not None else _l("the union")
    return str(EVENT_SENTENCES[event.action]) % {"union": union, "number": event.note}


# The first draft of a reply, by kind; staff edit it before sending.
REPLY_TEMPLATES = {
    Kind.CONSULTATION: _l("Hello. About your question: … If you have more questions, call 12351."),
    Kind.SUGGESTION: _l("Thank you for your suggestion. We have passed it to … and will …"),
    Kind.HELP: _l("Hello. About your request for help: we have … Contact person: … Phone: …"),
    Kind.APPEAL: _l("Hello. We looked into your complaint: … The employer has agreed to … by …"),
}

ACTION_LABELS = {
    "accept": _l("Accept"),
    "dispatch": _l("Pass down"),
    "accept_and_dispatch": _l("Accept and pass down"),
    "return_up": _l("Return to the union above"),
    "report_up": _l("Report the result up"),
    "reply": _l("Reply to the worker"),
    "ask_information": _l("Ask the worker for more information"),
    "request_extension": _l("Ask for more time"),
    "decide_extension": _l("Decide on more time"),
    "return_visit": _l("Record the return visit"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
    "merge": _l("Merge as a duplicate"),
}


NOTICE_LABELS = {
    NoticeKind.REMINDER: _l("Reminder: due soon"),
    NoticeKind.SUPERVISION: _l("Supervision: overdue"),
    NoticeKind.PUBLIC: _l("Public notice: five working days overdue"),
}


# The history as staff read it (events are named in the past tense).
EVENT_LABELS = {
    "submitted": _l("Submitted"), "accepted": _l("Accepted"), "dispatched": _l("Passed down"),
    "returned_up": _l("Returned up"), "reported_up": _l("Result reported up"), "replied": _l("Replied"),
    "extension_requested": _l("More time requested"), "extension_approved": _l("More time approved"),
    "extension_denied": _l("More time refused"), "rated": _l("Rated by the worker"),
    "return_visit": _l("Return visit recorded"), "closed": _l("Closed"), "withdrawn": _l("Withdrawn"),
    "information_added": _l("Information added by the worker"), "merged": _l("Merged as a duplicate"),
    "reopened": _l("Reopened"),
    "reopened_with_information": _l("Reopened: the worker added information"),
    "followed_up": _l("Continued as a new request"),
    "more_information_asked": _l("More information asked for"),
}


# ------------------------------------------------------------------------------------------ requests

KIND_LABELS = {
    Kind.CONSULTATION: _l("Consultation"),
    Kind.SUGGESTION: _l("Suggestion"),
    Kind.HELP: _l("Request for help"),
    Kind.APPEAL: _l("Appeal or complaint"),
}
KIND_DESCRIPTIONS = {
    Kind.CONSULTATION: _l("Questions about labour law, contracts, pay or insurance."),
    Kind.SUGGESTION: _l("Ideas for the union's work and services."),
    Kind.HELP: _l("Hardship, psychological or legal help for you or your family."),
    Kind.APPEAL: _l("Unpaid wages, dismissal, work injury, overtime and other disputes."),
}

# The taxonomy's groups and categories by code (portal.services.taxonomy holds the codes and their order).
GROUP_LABELS = {
    "labour": _l("Labour relations"),
    "security": _l("Social security"),
    "support": _l("Help and support"),
    "other": _l("Other"),
}
CATEGORY_LABELS = {
    "labour.contract": _l("Labour contract dispute"),
    "labour.wages": _l("Unpaid wages"),
    "labour.dismissal": _l("Dismissal"),
    "labour.hours": _l("Working hours and overtime"),
    "security.injury": _l("Work injury"),
    "security.insurance": _l("Social insurance"),
    "support.psychological": _l("Psychological help"),
    "support.hardship": _l("Hardship help"),
    "other.union": _l("The union's work"),
    "other.other": _l("Other"),
}

# How requests and contacts arrived, as the figures' screens name them.
CHANNEL_LABELS = {
    Channel.HOTLINE: _l("Hotline"), Channel.MAILBOX: _l("Mailbox"), Channel.VISIT: _l("Visits"),
    Channel.WEB: _l("Web"), Channel.QR: _l("QR code"), Channel.API: _l("Partner apps"),
}

# How a worker reached the union, as the hotline ledger asks it.
LEDGER_CHANNEL_LABELS = {
    Channel.HOTLINE: _l("12351 hotline call"),
    Channel.VISIT: _l("Walk-in visit"),
    Channel.MAILBOX: _l("Chairman's mailbox letter"),
}

# The figures' periods (portal.services.stats.period).
PERIOD_LABELS = {"today": _l("Today"), "month": _l("This month"), "range": _l("Chosen dates")}
ALL_REQUESTS = _l("All requests")  # the top of the figures' category breakdown

# ------------------------------------------------------------------------------------------ stations

STATION_KIND_LABELS = {
    StationKind.UNION: _l("Trade union rest station"),
    StationKind.OUTDOOR: _l("Outdoor workers' service station"),
    StationKind.PARTNER: _l("Partner rest point"),
}

# By facility code (portal.services.stations holds each facility's bit and icon).
FACILITY_LABELS = {
    "water": _l("Drinking water"),
    "seats": _l("Seats"),
    "charging": _l("Phone charging"),
    "microwave": _l("Microwave"),
    "toilet": _l("Toilet"),
    "air_conditioning": _l("Air conditioning"),
    "wifi": _l("Wi-Fi"),
    "first_aid": _l("First-aid kit"),
    "fridge": _l("Fridge"),
    "power_bank": _l("Power bank"),
    "aed": _l("AED defibrillator"),
    "battery_swap": _l("E-bike battery swap"),
    "umbrella": _l("Umbrella to borrow"),
    "reading": _l("Reading corner"),
    "job_screen": _l("Job information"),
    "lawyer": _l("Lawyer on duty"),
}

# Who changed a station last, as the public page says it ("updated 3 days ago by the station manager").
STATION_ACTOR_LABELS = {
    "station_manager": _l("the station manager"),
    "admin": _l("the union"),
    "import": _l("the union"),
}

WEEKDAY_LABELS = {
    "mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"), "fri": _l("Friday"),
    "sat": _l("Saturday"), "sun": _l("Sunday"),
}

# ------------------------------------------------------------------------------------------ members and benefits

# By occupation tag (portal.services.members.OCCUPATIONS).
OCCUPATION_LABELS = {
    "delivery": _l("Delivery rider"),
    "courier": _l("Courier"),
    "sanitation": _l("Sanitation worker"),
    "construction": _l("Construction worker"),
    "driver": _l("Driver"),
    "domestic": _l("Domestic worker"),
    "security": _l("Security guard"),
    "factory": _l("Factory worker"),
    "other": _l("Other"),
}

MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.ROSTER: _l("On the roster"),
    MembershipStatus.PENDING: _l("Waiting for approval"),
    MembershipStatus.ACTIVE: _l("Active"),
    MembershipStatus.REJECTED: _l("Not approved"),
}

MERCHANT_CATEGORY_LABELS = {
    MerchantCategory.CATERING: _l("Catering"),
    MerchantCategory.FUEL: _l("Fuel"),
    MerchantCategory.CINEMA: _l("Cinema"),
    MerchantCategory.SHOPPING: _l("Shopping"),
    MerchantCategory.HEALTH: _l("Health"),
    MerchantCategory.TRANSPORT: _l("Transport"),
    MerchantCategory.SERVICES: _l("Services"),
}

OFFER_KIND_LABELS = {OfferKind.PERCENT: _l("Percent off the bill"), OfferKind.FIXED: _l("An amount off the bill")}

LIMIT_PERIOD_LABELS = {LimitPeriod.CAMPAIGN: _l("For the whole campaign"), LimitPeriod.DAY: _l("For each day")}


# ------------------------------------------------------------------------------------------ text messages

# The words of each text message to a worker (portal.services.messages.texts renders them; the README lists them to
# register at the provider). The portal and the ticket number only: never what the request is about.
MESSAGE_TEXTS = {
    "verify": _l("Your Worker Service Portal code is %(code)s. It is valid for 10 minutes. Do not tell anyone."),
    "accepted": _l("Request %(number)s has been accepted. Follow it: %(link)s Stop texts: %(stop)s"),
    "more_information": _l("The union asks for more information on request %(number)s: %(link)s "
                           "Stop texts: %(stop)s"),
    "answered": _l("Request %(number)s has been answered. Read and rate the answer: %(link)s Stop texts: %(stop)s"),
    "extended": _l("Request %(number)s has been given more time. Follow it: %(link)s Stop texts: %(stop)s"),
    "closed": _l("Request %(number)s is closed. See it: %(link)s Stop texts: %(stop)s"),
    "reopened": _l("Request %(number)s is being handled again. Follow it: %(link)s Stop texts: %(stop)s"),
    "resend": _l("Your request at the Worker Service Portal is number %(number)s. Open it: %(link)s"),
}
