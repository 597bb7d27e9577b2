from portal.blueprints.open311.routes import bp

__all__ = ["bp"]
