"""The contact ledger (台账): what staff log for callers, visitors and letters.

Many consultations are answered on the spot; the others become tickets handled like any other, with the
channel they came by. Both are recorded, so the dashboard counts every contact, not only tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.database import begin_write
from portal.exceptions import InvalidInput, PermissionDenied
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Channel, Kind, LedgerEntry, Role, User
from portal.services import regions, stats, taxonomy, tickets

CHANNELS = (Channel.HOTLINE, Channel.VISIT, Channel.MAILBOX)


@dataclass(frozen=True)
class Contact:
    channel: Channel
    kind: Kind
    category: str
    summary: str
    answer: str = ""  # given on the spot; empty when the contact becomes a ticket
    to_ticket: bool = False
    place_code: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    urgent: bool = False


@dataclass(frozen=True)
class Logged:
    entry: LedgerEntry
    receipt: tickets.Receipt | None  # the ticket and its query code, to read out to the caller


def log(user: User, contact: Contact, token: str, now: datetime) -> Logged:
    """Record a contact, once per form token; a contact that needs handling becomes a ticket too."""
    if user.role is not Role.STAFF or not user.region_code:
        raise PermissionDenied()
    existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.token == token))
    if existing is not None:
        return Logged(existing, _receipt(existing, token))
    problems = {}
    if contact.channel not in CHANNELS:
        problems["channel"] = _l("Choose how the worker contacted you.")
    if contact.category not in taxonomy.CATEGORIES:
        problems["category"] = _l("Choose a category.")
    if not contact.summary.strip() or len(contact.summary) > tickets.MAX_DESCRIPTION:
        problems["summary"] = _l("Tell us what happened.")
    if not contact.to_ticket and not contact.answer.strip():
        problems["answer"] = _l("Write the answer given, or turn the contact into a ticket.")
    if problems:
        raise InvalidInput(fields=problems)
    receipt = None
    if contact.to_ticket:
        receipt = tickets.submit(tickets.Submission(
            kind=contact.kind, category=contact.category, description=contact.summary, place_code=contact.place_code,
            channel=contact.channel, anonymous=not (contact.caller_name or contact.caller_phone),
            contact_name=contact.caller_name, contact_phone=contact.caller_phone, urgent=contact.urgent),
            token=f"ledger:{token}", now=now)
    begin_write()  # after the ticket's own transaction, if any
    entry = LedgerEntry(at=now, channel=contact.channel, region_code=user.region_code, staff_id=user.id,
                        kind=contact.kind, category=contact.category, summary=contact.summary.strip(),
                        answer=contact.answer.strip(), ticket_id=receipt.ticket.id if receipt else None, token=token)
    db.session.add(entry)
    stats.contact_logged(entry)
    try:
        db.session.commit()
    except IntegrityError:  # the same form, posted twice at once
        db.session.rollback()
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.token == token))
    return Logged(entry, receipt)


def _receipt(entry: LedgerEntry, token: str) -> tickets.Receipt | None:
    if entry.ticket is None:
        return None
    return tickets.Receipt(entry.ticket, tickets.query_code_for(f"ledger:{token}"), created=False)


def recent(user: User, limit: int = 30) -> list[LedgerEntry]:
    """The contacts logged by this union and the unions below it, newest first."""
    if not user.region_code:
        return []
    return list(db.session.scalars(select(LedgerEntry).where(regions.within(LedgerEntry.region_code,
                                                                            user.region_code))
                                   .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()).limit(limit)))
