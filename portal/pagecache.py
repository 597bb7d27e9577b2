"""Blank pages, rendered once per language. The grievance form and the station finder, as anyone not signed in first
opens them (GET, no query, no path argument, nothing flashed, not an htmx swap), are the same page for everyone but
for the tokens in it. The first such request renders the page as always, and it is kept with its tokens cut out;
later ones get it back with tokens of their own, made by the calls a render makes (Flask-WTF's CSRF token, which
also goes into the session; portal.forms.new_form_token), so the answer is byte for byte what rendering would give
(tests/test_fast_pages.py compares them). Every other request is rendered as before, and every after_request hook
(headers, cookies, compression) runs on both.

A page listed here must therefore show nothing but what its language, the configuration, the code and the cached
region tree decide: no database row, no time of day, nothing of the visitor's. Each process keeps its own pages and
forgets them at a restart, as it does the region tree. BLANK_PAGE_CACHE = False renders every request; so does
debug mode, where templates reload.
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login.config import COOKIE_NAME
from flask_wtf.csrf import generate_csrf

from portal.forms import new_form_token

BLANK_PAGES = frozenset({"grievances.index", "stations.index"})
CSRF, FORM = "csrf", "form"
FRESH = {CSRF: generate_csrf, FORM: new_form_token}


def register(app: Flask) -> None:
    if not app.config["BLANK_PAGE_CACHE"] or app.debug or app.config["TEMPLATES_AUTO_RELOAD"]:
        return
    pages: dict[tuple[str, str], list] = {}

    @app.before_request
    def _serve_kept_page():
        key = _blank_key()
        if key is None:
            return None
        kept = pages.get(key)
        if kept is None:
            g.blank_page_key = key  # rendered as always; kept below
            return None
        fresh = {hole: FRESH[hole[0]]() for hole in dict.fromkeys(p for p in kept if isinstance(p, tuple))}
        return current_app.make_response("".join(fresh[p] if isinstance(p, tuple) else p for p in kept))

    @app.after_request
    def _keep_page(response: Response) -> Response:
        key = g.pop("blank_page_key", None)
        if key is not None and response.status_code == 200 and response.mimetype == "text/html" \
                and not response.is_streamed and "Content-Encoding" not in response.headers:
            parts = _cut(response.get_data(as_text=True), _tokens())
            if parts is not None and len(pages) < 64:
                pages[key] = parts
        return response


def _blank_key() -> tuple[str, str] | None:
    """(path, language) for a request that gets the blank page, else None."""
    if request.method != "GET" or request.endpoint not in BLANK_PAGES or request.view_args or request.query_string:
        return None
    if "HX-Request" in request.headers or "_user_id" in session or "_flashes" in session \
            or current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies:
        return None
    return request.path, str(get_locale())


def _tokens() -> dict[str, tuple[str, int]]:
    """Each token this request issued, and the hole it leaves: the CSRF token (one per request, wherever it is
    shown), each form token."""
    found = {token: (FORM, i) for i, token in enumerate(g.get("form_tokens", []))}
    if g.get("csrf_token"):
        found[g.csrf_token] = (CSRF, 0)
    return found


def _cut(html: str, tokens: dict[str, tuple[str, int]]) -> list | None:
    """The page as text and holes, in order; None when a token issued is not in the page as it was issued."""
    if not tokens or any(t not in html for t in tokens):
        return None
    pieces = re.split("(" + "|".join(map(re.escape, tokens)) + ")", html)
    return [tokens[p] if i % 2 else p for i, p in enumerate(pieces)]
