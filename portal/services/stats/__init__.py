"""The big screen's figures (being split into one module per concern)."""

from portal.services.stats.figures import *  # noqa: F403
from portal.services.stats.figures import _local_day, _local_hour  # noqa: F401
