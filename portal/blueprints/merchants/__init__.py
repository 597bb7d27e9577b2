from portal.blueprints.merchants.routes import bp

__all__ = ["bp"]
