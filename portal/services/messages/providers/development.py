"""The development provider (`make run`): sends nothing, keeps what would have been sent for the administrators'
outbox page (/admin/messages), the number encrypted like everywhere else. Refused in production."""

from __future__ import annotations

from portal import clock
from portal.extensions import db
from portal.models import DevelopmentMessage
from portal.services.messages import phones
from portal.services.messages.providers.base import Delivered, Outgoing


class DevelopmentSms:
    name = "development"

    def send(self, message: Outgoing) -> Delivered:
        """Kept in its own short transaction; a retry of the same message id is kept once, as a provider would."""
        existing = db.session.scalar(db.select(DevelopmentMessage.id)
                                     .where(DevelopmentMessage.message_id == message.message_id))
        if existing is None:
            db.session.add(DevelopmentMessage(message_id=message.message_id, phone_cipher=phones.seal(message.phone),
                                              text=message.text, at=clock.now()))
            db.session.commit()
        return Delivered(f"dev-{message.message_id[:12]}")


def recent(limit: int = 50) -> list[tuple[DevelopmentMessage, str]]:
    """What would have been sent, newest first, with the number (development only: no real worker's number)."""
    rows = db.session.scalars(db.select(DevelopmentMessage).order_by(DevelopmentMessage.id.desc()).limit(limit))
    return [(row, phones.unseal(row.phone_cipher) or "") for row in rows]
