from portal.blueprints.tracking import texts  # noqa: F401 — its routes join the blueprint
from portal.blueprints.tracking.routes import bp

__all__ = ["bp"]
