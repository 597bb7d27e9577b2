from portal.blueprints.api import (
    benefits,  # noqa: F401 — the terminal API's routes, on the same blueprint
    docs,  # noqa: F401 — the OpenAPI document and its reference page, on the same blueprint
    stats,  # noqa: F401 — the public figures, on the same blueprint
)
from portal.blueprints.api.routes import bp

__all__ = ["bp"]
