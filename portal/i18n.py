"""Language: ?lang= (remembered in a cookie), then the cookie, then Accept-Language; Chinese by default."""

from flask import Flask, Response, current_app, has_request_context, request

COOKIE = "lang"
ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "zh-hans": "zh_CN", "en": "en", "en-us": "en"}


def _normalise(value: str | None) -> str | None:
    return ALIASES.get((value or "").strip().lower())


def select_locale() -> str:
    if not has_request_context():  # CLI commands and services called directly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = _normalise(request.args.get("lang")) or _normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return _normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else "en"


def register(app: Flask) -> None:
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
