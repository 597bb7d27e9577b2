"""Binds Flask-Login to the server-side login sessions of portal.services.users."""

from __future__ import annotations

from flask import Flask

from portal import clock
from portal.extensions import login_manager
from portal.services import users


def register(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    # "strong" protection trusts a client-supplied X-Forwarded-For and logs a phone out whenever it
    # switches between Wi-Fi and 4G; server-side sessions and their timeouts do the real work.
    login_manager.session_protection = "basic"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load(token: str):
        return users.resume_session(token, clock.now())
