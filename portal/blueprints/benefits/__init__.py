from portal.blueprints.benefits.routes import bp

__all__ = ["bp"]
