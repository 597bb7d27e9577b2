"""Text messages to workers, one module per concern:

- subscriptions: a number asked for, confirmed by code, stopped, forgotten 30 days after closing; "send it again";
- outbox: messages written with the change that causes them, claimed and delivered once, retried, dead-lettered;
- texts: the words of every message (templates to register at the provider); links: the signed 72-hour links;
- phones: numbers encrypted at rest and found by a keyed hash; providers: Aliyun, Tencent Cloud, development;
- worker: the `flask worker` loop, which also runs the supervision sweep every minute.

Which ticket changes send what is `NEWS_OF_EVENTS` below, called by the workflow in the change's transaction.
"""

from portal.exceptions import NotFound
from portal.extensions import db
from portal.models import Status, Ticket, TicketEvent
from portal.services.messages import links, outbox, subscriptions, texts
from portal.services.messages.subscriptions import TextsState, enabled

# The event a change appends → the news it sends to an opted-in worker. The worker's own steps (rating,
# writing, withdrawing) send nothing: they are on the page as they do them.
NEWS_OF_EVENTS = {
    "more_information_asked": "more_information",
    "replied": "answered",
    "extension_approved": "extended",
    "closed": "closed",
    "merged": "closed",
    "reopened": "reopened",
}


def from_link(token: str, now) -> tuple[Ticket, str]:
    """The ticket and purpose of a message's link (portal.services.messages.links); NotFound for any other."""
    ticket_id, purpose = links.read(token, now)
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound()
    return ticket, purpose


def ticket_changed(ticket: Ticket, event: TicketEvent, from_status: Status, now) -> None:
    """Queue the news this change brings, if the worker opted in (the workflow calls it before committing)."""
    if event.actor_kind == "worker" or not enabled():
        return
    template = NEWS_OF_EVENTS.get(event.action)
    if event.action == "accepted" and from_status is Status.SUBMITTED:
        template = "accepted"  # the first acceptance only: later ones are the case passing between unions
    if template is not None:
        outbox.news(ticket, template, now)


__all__ = ["NEWS_OF_EVENTS", "TextsState", "enabled", "from_link", "outbox", "subscriptions", "texts", "ticket_changed"]
