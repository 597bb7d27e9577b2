"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from portal.models.region import Region, RegionLevel
from portal.models.user import LoginSession, Role, User

__all__ = ["LoginSession", "Region", "RegionLevel", "Role", "User"]
