"""What every text-message provider implements: send one message, and say whether a failure is worth retrying.

The outbox (portal.services.messages.outbox) calls `send` outside any database transaction, with a bounded timeout,
and decides from the exception what happens next: `TemporaryFailure` is retried with backoff, `PermanentFailure`
goes to the dead-letter list with its reason. A provider never retries by itself and never sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One text message as the outbox hands it over.

    `message_id` is stable across retries (the outbox row's id): providers send it in their out-id field, so
    the provider (and our stand-in) can tell a retry from a new message. `template` is the portal's name for
    the text ("verify", "accepted", "answered" …; portal.services.messages.texts), `params` its named values in
    the template's order, `locale` the worker's language ("zh_CN" or "en"), `text` the whole message as the
    portal words it (what the development provider stores; real providers send template ids and params)."""

    message_id: str
    phone: str  # 11 digits, mainland mobile
    template: str
    params: dict[str, str] = field(default_factory=dict)
    locale: str = "zh_CN"
    text: str = ""


@dataclass(frozen=True)
class Delivered:
    """The provider accepted the message; `reference` is its own id for it (BizId, SerialNo)."""

    reference: str


class DeliveryFailure(Exception):
    """The provider did not accept the message. `reason` is short, human-readable, without the phone number."""

    def __init__(self, reason: str, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: a timeout, a 5xx, throttling, an answer we could not read.
    `retry_after` (seconds) when the provider said how long to wait."""

    def __init__(self, reason: str, code: str = "", retry_after: float | None = None):
        super().__init__(reason, code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Trying again cannot help: a refused number, a template not approved, wrong keys, no balance."""


class Provider(Protocol):
    name: str

    def send(self, message: Outgoing) -> Delivered:
        """Deliver one message or raise TemporaryFailure / PermanentFailure (nothing else escapes)."""
        ...
