from portal.blueprints.tracking.routes import bp

__all__ = ["bp"]
