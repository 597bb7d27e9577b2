from portal.blueprints.grievances.routes import bp

__all__ = ["bp"]
