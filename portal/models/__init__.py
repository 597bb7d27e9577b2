"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from portal.models.channel import ApiChannel
from portal.models.region import Region, RegionLevel
from portal.models.station import Station, StationChange, StationKind, StationManager, StationReport
from portal.models.ticket import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Counter,
    Kind,
    LedgerEntry,
    Notice,
    NoticeKind,
    Rating,
    Status,
    Ticket,
    TicketCount,
    TicketEvent,
)
from portal.models.user import LoginSession, Role, User

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "ApiChannel",
    "Attachment",
    "Channel",
    "Counter",
    "Kind",
    "LedgerEntry",
    "LoginSession",
    "Notice",
    "NoticeKind",
    "Rating",
    "Region",
    "RegionLevel",
    "Role",
    "Station",
    "StationChange",
    "StationKind",
    "StationManager",
    "StationReport",
    "Status",
    "Ticket",
    "TicketCount",
    "TicketEvent",
    "User",
]
