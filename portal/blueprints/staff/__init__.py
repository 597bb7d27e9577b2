from portal.blueprints.staff.routes import bp

__all__ = ["bp"]
