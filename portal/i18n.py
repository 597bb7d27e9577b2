"""Language: ?lang= (remembered in a cookie), then the cookie, then Accept-Language; Chinese by default."""

from datetime import date
from functools import cache, lru_cache

import flask_babel
from babel import Locale
from babel.dates import format_date
from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel.speaklater import LazyString
from wtforms.i18n import messages_path

COOKIE = "lang"
ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "zh-hans": "zh_CN", "en": "en", "en-us": "en"}


def _normalise(value: str | None) -> str | None:
    return ALIASES.get((value or "").strip().lower())


@cache
def _locale(identifier: str) -> Locale:
    """Parsed once per process: Flask-Babel would parse the selector's answer on every request."""
    return Locale.parse(identifier)


def select_locale() -> Locale:
    if not has_request_context():  # CLI commands and services called directly
        return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = _normalise(request.args.get("lang")) or _normalise(request.cookies.get(COOKIE))
    if chosen:
        return _locale(chosen)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return _locale(_normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"])


force_locale = flask_babel.force_locale  # text messages, rendered by the background worker in the worker's language


def html_lang(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else "en"


def _catalogue() -> NullTranslations:
    """The request's translations, found once per request.

    Flask-Babel finds them afresh for every string, through several context-local look-ups: about 5 µs a
    string, a tenth of a busy page such as the staff inbox. Kept on `g`, where Flask-Babel keeps the locale.
    """
    if not has_request_context():
        return flask_babel.get_translations()
    found = g.get("_catalogue")
    if found is None:
        found = g._catalogue = flask_babel.get_translations()
    return found


def gettext(string: str, **variables) -> str:
    text = _catalogue().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _catalogue().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """For labels defined at import time: translated when shown, in the language of that request."""
    return LazyString(gettext, string, **variables)


@cache
def _wtforms_catalogue(locale: Locale) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class FormTranslations:
    """WTForms' own messages ("Not a valid choice") in the request's language. Flask-WTF reads their
    catalogue from disk on every request; this reads it once per language."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(flask_babel.get_locale()).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(flask_babel.get_locale()).ungettext(singular, plural, n)


FORM_TRANSLATIONS = FormTranslations()


@lru_cache(maxsize=4096)
def _day(value: date, locale: Locale, form: str) -> str:
    return format_date(value, form, locale=locale)


def day(value: date, form: str = "medium") -> str:
    """A calendar day ("2026年12月18日"), formatted once per day and language: a list of deadlines repeats the
    same few days, and Babel takes about 40 µs for each."""
    return _day(value, flask_babel.get_locale(), form)


def register(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @app.after_request
    def _remember_choice(response: Response) -> Response:
        chosen = _normalise(request.args.get("lang"))
        if chosen:
            response.set_cookie(
                COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                secure=app.config["SESSION_COOKIE_SECURE"],
            )
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
        return response
