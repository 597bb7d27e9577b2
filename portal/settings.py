"""The running application's settings, for code that must not depend on Flask (services).

Services read a setting (the root region, the secret key, the upload folder) through `setting(name)`, so a
service module imports nothing from Flask and its rules stay plain functions; the values still come from the
one configuration that `create_app` assembled (portal.config, instance/config.py, PORTAL_* variables).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def setting(name: str) -> Any:
    """One configuration value of the application in whose context the caller runs."""
    return current_app.config[name]


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link to the portal as its users reach it (PUBLIC_URL), for links made outside any request: those
    in text messages, built by the background worker."""
    base = urlsplit(setting("PUBLIC_URL"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
