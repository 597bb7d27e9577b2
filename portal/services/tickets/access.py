"""Every rule about who may see or act on a ticket.

Staff see the tickets their union or a union below it handles; administrators see all; outside a user's
jurisdiction a ticket does not exist (404), so its existence leaks nothing. Only the handling union acts on a
case, and the union above it decides on more time. A worker sees a ticket after proving it with the number and
query code (the browser then holds a grant), or as the signed-in member who sent it, and sees only the public
part of its history.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, false, select, true

from portal.exceptions import NotFound, PermissionDenied
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Attachment, Region, Role, Ticket, TicketEvent, User
from portal.services import regions
from portal.services.tickets import codes
from portal.settings import setting

# Who may take an action (portal.services.tickets.workflow.ACTIONS names one of these for each).
HANDLER = "handler"  # staff of the union handling the case
DECIDER = "decider"  # staff of the union above the handling one (the root union decides for itself)
WORKER = "worker"  # the worker who sent it; the caller proved that (get_for_worker)

# What the worker sees of the history: internal steps (extension requests and refusals) are left out, and
# a note only when it was written for the worker.
WORKER_VISIBLE = frozenset({"submitted", "accepted", "dispatched", "returned_up", "reported_up", "replied",
                            "extension_approved", "rated", "return_visit", "closed", "withdrawn", "merged",
                            "information_added", "reopened", "reopened_with_information", "followed_up",
                            "more_information_asked"})


def visible_to(user: User) -> ColumnElement[bool]:
    """The condition on Ticket for the tickets this user may see."""
    if user.role is Role.ADMIN or (user.role is Role.STAFF and user.region_code == setting("ROOT_REGION")):
        # Every ticket lies within the root: no condition at all lets the database walk the worklist index
        # instead of sorting a province's open cases (4 s → 0.2 ms at a million tickets).
        return true()
    if user.role is Role.STAFF and user.region_code:
        return regions.within(Ticket.handler_code, user.region_code)
    return false()


def scope_of(user: User) -> str | None:
    """The region whose tickets (and those below it) the user may see; None for no ticket at all."""
    if user.role is Role.ADMIN:
        return setting("ROOT_REGION")
    return user.region_code if user.role is Role.STAFF else None


def get_for_staff(ticket_id: int, user: User) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id, visible_to(user)))
    if ticket is None:
        raise NotFound()
    return ticket


def get_visible_by_number(number: str, user: User) -> Ticket:
    """Another case named by its number, e.g. the one a duplicate is merged into: 404 outside the jurisdiction."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == codes.as_number(number), visible_to(user)))
    if ticket is None:
        raise NotFound()
    return ticket


def attachment_for_staff(ticket_id: int, attachment_id: int, user: User) -> Attachment:
    ticket = get_for_staff(ticket_id, user)
    found = next((a for a in ticket.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound()
    return found


def find_by_code(number: str, code: str) -> Ticket:
    """The ticket with this number and query code. A wrong number and a wrong code fail alike, in
    constant time."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == codes.as_number(number)))
    if not codes.matches(ticket, code):
        raise NotFound(_l("No request matches this ticket number and query code."))
    return ticket


def get_for_worker(number: str, granted: Collection[int], member_id: int | None) -> Ticket:
    """The worker's own ticket: one this browser proved with its code (`granted` ids), or the signed-in
    member's own (`member_id`); any other is 404."""
    ticket = codes.get_by_number(number)
    if ticket.id not in granted and not (member_id is not None and ticket.member_id == member_id):
        raise NotFound()
    return ticket


def for_member(member_id: int) -> list[Ticket]:
    """A signed-in member's own requests, newest first."""
    return list(db.session.scalars(select(Ticket).where(Ticket.member_id == member_id)
                                   .order_by(Ticket.received_at.desc()).limit(100)))


def worker_timeline(ticket: Ticket) -> list[TicketEvent]:
    return [e for e in ticket.events if e.action in WORKER_VISIBLE]


def decider_of(ticket: Ticket) -> str:
    """The union that decides on more time: the one above the handling union, or the root for itself."""
    handler = db.session.get(Region, ticket.handler_code)
    return handler.parent_code or handler.code


def may_take(by: str, ticket: Ticket, user: User | None) -> bool:
    """Whether `user` is who an action of this kind is for (the worker's own were proven by the caller)."""
    if by == WORKER:
        return True
    if user is None or user.role is not Role.STAFF:
        return False
    return user.region_code == (ticket.handler_code if by == HANDLER else decider_of(ticket))


def require(by: str, ticket: Ticket, user: User | None) -> None:
    if not may_take(by, ticket, user):
        raise PermissionDenied(_l("Only the union above the handling one can decide.") if by == DECIDER
                               else _l("Only the union handling this case can do this."))
