from portal.blueprints.regions.routes import bp

__all__ = ["bp"]
