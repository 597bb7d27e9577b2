from portal.blueprints.accounts.routes import bp

__all__ = ["bp"]
