"""The running application's settings, for code that must not depend on Flask (services).

Services read a setting (the root region, the secret key, the upload folder) through `setting(name)`, so a
service module imports nothing from Flask and its rules stay plain functions; the values still come from the
one configuration that `create_app` assembled (portal.config, instance/config.py, PORTAL_* variables).
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def setting(name: str) -> Any:
    """One configuration value of the application in whose context the caller runs."""
    return current_app.config[name]
