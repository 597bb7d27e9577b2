from portal.blueprints.pages.routes import bp

__all__ = ["bp"]
