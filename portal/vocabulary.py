"""Display names of domain values, defined once for templates, forms and exports."""

from portal.i18n import lazy_gettext as _l
from portal.models import Kind, NoticeKind, Rating, Role, Status

ROLE_LABELS = {
    Role.MEMBER: _l("Union member"),
    Role.STATION_MANAGER: _l("Station manager"),
    Role.MERCHANT: _l("Merchant staff"),
    Role.STAFF: _l("Union staff"),
    Role.ADMIN: _l("Administrator"),
}

def union_name(region) -> str:
    """The union that acts for a region, e.g. 广州市总工会."""
    return _l("%(region)s Federation of Trade Unions", region=region.name)


STATUS_LABELS = {
    Status.SUBMITTED: _l("Submitted"),
    Status.ACCEPTED: _l("Accepted"),
    Status.DISPATCHED: _l("Passed to a local union"),
    Status.IN_PROGRESS: _l("Being handled"),
    Status.RETURNED_UP: _l("Passed back up"),
    Status.EXTENSION_REQUESTED: _l("Being handled"),  # an internal step: the worker sees it is in hand
    Status.REPLIED: _l("Answered"),
    Status.RETURN_VISIT: _l("Return visit done"),
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
    "extension_approved": _l("More time was granted to look into it."),
    "rated": _l("You rated the answer."),
    "return_visit": _l("The union called you back."),
    "closed": _l("The case was closed."),
    "withdrawn": _l("You withdrew the request."),
    "merged": _l("Merged with request %(number)s about the same matter."),
    "information_added": _l("You added information:"),
    "reopened": _l("%(union)s is handling your request again."),
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
    "return_up": _l("Return to the union above"),
    "report_up": _l("Report the result up"),
    "reply": _l("Reply to the worker"),
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
}
