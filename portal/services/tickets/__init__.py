"""Grievance tickets, one module per concern:

- codes: ticket numbers and query codes;
- submission: a request becomes a ticket, once (Submission, submit);
- access: every rule about who may see or act on a ticket, the worker's own check included;
- workflow: the one registry of actions (ACTIONS, take, staff_actions, worker_actions) and their transitions;
- inbox: the staff worklist with its filters and counts; counts: TicketCount kept in step.

Deadlines are portal.services.sla's. Callers use the names re-exported here (`tickets.submit(...)`,
`tickets.take("reply", ticket, user, now, text=...)`).
"""

from portal.services.tickets.access import (
    attachment_for_staff,
    find_by_code,
    for_member,
    get_for_staff,
    get_for_worker,
    visible_to,
    worker_timeline,
)
from portal.services.tickets.codes import CODE_ALPHABET, CODE_LENGTH, get_by_number, normalise_code, query_code_for
from portal.services.tickets.counts import recount
from portal.services.tickets.inbox import PER_PAGE, VIEWS, InboxItem, InboxPage, InboxQuery, inbox, view_counts
from portal.services.tickets.submission import MAX_DESCRIPTION, MAX_FEN, Receipt, Submission, submit, validate
from portal.services.tickets.workflow import (
    ACTIONS,
    MAX_NOTE,
    STAFF_ACTIONS,
    WORKER_ACTIONS,
    Action,
    promise_pending,
    promise_window,
    staff_actions,
    take,
    what_writing_does,
    worker_actions,
)

__all__ = [
    "ACTIONS", "CODE_ALPHABET", "CODE_LENGTH", "MAX_DESCRIPTION", "MAX_FEN", "MAX_NOTE", "PER_PAGE", "STAFF_ACTIONS",
    "VIEWS", "WORKER_ACTIONS", "Action", "InboxItem", "InboxPage", "InboxQuery", "Receipt", "Submission",
    "attachment_for_staff", "find_by_code", "for_member", "get_by_number", "get_for_staff", "get_for_worker", "inbox",
    "normalise_code", "view_counts", "promise_pending", "promise_window", "query_code_for", "recount", "staff_actions",
    "submit", "take", "validate", "visible_to", "what_writing_does", "worker_actions", "worker_timeline",
]
