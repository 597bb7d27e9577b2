from portal.blueprints.stations.routes import bp

__all__ = ["bp"]
