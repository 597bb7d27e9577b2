from portal.blueprints.messages.routes import bp

__all__ = ["bp"]
