"""职工服务门户 — the Worker Service Portal. `create_app` is the only way to get an application."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import format_timedelta, get_locale
from flask_login import current_user
from sqlalchemy.exc import ArgumentError

from portal import assets, auth, cli, errors, i18n, navigation, pagecache, security, vocabulary
from portal.database import configure_sqlite, database_uri, engine_options
from portal.extensions import babel, compress, csrf, db, limiter, login_manager, migrate
from portal.htmx import add_vary
from portal.inputs import paths
from portal.services import sla, stations
from portal.services.messages import phones, providers
from portal.widgets.html import field_block

BLUEPRINTS = ("pages", "accounts", "regions", "grievances", "tracking", "stations", "members", "merchants", "benefits",
              "staff", "dashboard", "open311", "api", "messages")


class ConfigurationError(RuntimeError):
    """A setting the portal refuses to start with. Its message is one line naming the setting and how to set
    it: wsgi.py prints it instead of a traceback, for gunicorn and the flask command alike."""


def create_app(config: Mapping | None = None) -> Flask:
    """Defaults from portal.config, then instance/config.py, then PORTAL_* variables, then `config`."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("portal.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if config:
        app.config.update(config)
    _finalise_config(app)

    try:
        db.init_app(app)  # creates the engine: an unknown URL or a missing driver shows here
    except (ArgumentError, ImportError) as error:
        raise ConfigurationError(f"PORTAL_DATABASE_URL is not usable ({error}); leave it unset for SQLite in "
                                 "instance/, or give a postgresql://user:password@host/db URL") from error
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    compress.init_app(app)  # its after_request runs last, on the final body and headers
    assets.register(app)  # before security: its static cache header replaces the signed-in "no-store"
    auth.register(app)
    security.register(app)
    i18n.register(app)
    errors.register(app)
    paths.register(app)  # before the blueprints add their rules
    _register_blueprints(app)
    _register_templates(app)
    cli.register(app)
    app.after_request(add_vary)
    pagecache.register(app)  # last: its before_request runs after the others (request id, limits)
    return app


def _finalise_config(app: Flask) -> None:
    cfg = app.config
    if cfg["ENVIRONMENT"] not in ("production", "development"):
        raise ConfigurationError(f"PORTAL_ENVIRONMENT must be 'production' or 'development', not "
                                 f"{cfg['ENVIRONMENT']!r} (set it, or ENVIRONMENT in instance/config.py)")
    os.makedirs(app.instance_path, exist_ok=True)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if len(cfg["SECRET_KEY"]) < 32:
        raise ConfigurationError("PORTAL_SECRET_KEY must be at least 32 characters (64 random hex characters: "
                                 "python3 -c 'import secrets; print(secrets.token_hex(32))'), or unset for a "
                                 "key generated into instance/secret_key")
    _check_numbers(cfg)
    _messages_config(app)
    cfg["UPLOAD_DIR"] = cfg["UPLOAD_DIR"] or str(Path(app.instance_path) / "uploads")
    cfg["SQLALCHEMY_DATABASE_URI"] = database_uri(cfg["DATABASE_URL"], app.instance_path)
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(cfg["SQLALCHEMY_DATABASE_URI"],
                                                               cfg["SQLITE_BUSY_TIMEOUT_MS"]))
    if isinstance(cfg["TRUSTED_HOSTS"], str):
        cfg["TRUSTED_HOSTS"] = [h.strip() for h in cfg["TRUSTED_HOSTS"].split(",") if h.strip()]
    if cfg["ENVIRONMENT"] == "production":
        if not cfg["TRUSTED_HOSTS"]:
            raise ConfigurationError(
                "Set PORTAL_TRUSTED_HOSTS (the host names served, e.g. '[\"portal.example.cn\"]') in production, "
                "or TRUSTED_HOSTS in instance/config.py; a development checkout has ENVIRONMENT = \"development\" "
                "there (make run writes it)")
        # __Host- cookies are refused by browsers unless Secure, host-only and Path=/.
        cfg.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-session",
                   REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_NAME="__Host-remember",
                   PREFERRED_URL_SCHEME="https")
    else:
        cfg["TRUSTED_HOSTS"] = cfg["TRUSTED_HOSTS"] or ["127.0.0.1", "localhost"]


def _messages_config(app: Flask) -> None:
    """Text messages: the provider chosen and complete, its key for numbers at rest, the address links point to."""
    cfg, development = app.config, app.config["ENVIRONMENT"] == "development"
    if cfg["SMS_PROVIDER"] is None:
        cfg["SMS_PROVIDER"] = "development" if development else ""
    if cfg["SMS_PROVIDER"] == "development" and not development:
        raise ConfigurationError("PORTAL_SMS_PROVIDER=development keeps messages on the server instead of sending "
                                 "them: choose aliyun or tencent in production, or \"\" for none")
    try:
        providers.for_config(cfg)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    if not cfg.get("MESSAGES_KEY"):
        cfg["MESSAGES_KEY"] = _instance_secret(Path(app.instance_path) / "messages_key")
    if len(cfg["MESSAGES_KEY"]) < 32:
        raise ConfigurationError("PORTAL_MESSAGES_KEY must be at least 32 characters, or unset for a key generated "
                                 "into instance/messages_key")
    if not cfg["PUBLIC_URL"]:
        if cfg["SMS_PROVIDER"] and not development:
            raise ConfigurationError("Set PORTAL_PUBLIC_URL (the portal's address as workers reach it, e.g. "
                                     "'https://portal.example.cn'): text messages carry links to it")
        cfg["PUBLIC_URL"] = "http://127.0.0.1:5000"
    start, end = cfg["QUIET_HOURS"]
    if not (0 <= end <= start <= 24):
        raise ConfigurationError(f"PORTAL_QUIET_HOURS must be [start, end] hours, start after end, not "
                                 f"{cfg['QUIET_HOURS']!r}")


def _check_numbers(cfg: dict) -> None:
    """Durations and counts, which PORTAL_* variables give as JSON numbers: a typo fails the start, not a request."""
    for name in ("SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_LIFETIME", "REMEMBER_COOKIE_DURATION"):
        if isinstance(cfg[name], int | float) and not isinstance(cfg[name], bool):  # seconds
            cfg[name] = timedelta(seconds=cfg[name])
        if not isinstance(cfg[name], timedelta):
            raise ConfigurationError(f"PORTAL_{name} must be a number of seconds, not {cfg[name]!r}")
    for name in ("PROXY_HOPS", "SQLITE_BUSY_TIMEOUT_MS", "FORM_TOKEN_MAX_AGE", "SECOND_FACTOR_PENDING_SECONDS",
                 "RETRY_AFTER_S", "MESSAGES_PER_DAY", "MESSAGES_LEASE_S"):
        if not isinstance(cfg[name], int) or isinstance(cfg[name], bool) or cfg[name] < 0:
            raise ConfigurationError(f"PORTAL_{name} must be a whole number of 0 or more, not {cfg[name]!r}")
    for name in ("DB_LOCK_TIMEOUT_S", "DB_CONNECT_TIMEOUT_S", "DB_STATEMENT_TIMEOUT_S"):
        if not isinstance(cfg[name], int | float) or isinstance(cfg[name], bool) or not 0 < cfg[name] < 3600:
            raise ConfigurationError(f"PORTAL_{name} must be a number of seconds above 0, not {cfg[name]!r}")


def _instance_secret(path: Path) -> str:
    """Generated once per installation and kept in instance/, which git ignores.

    Several gunicorn workers may start at once: the key is written to a private temporary file and linked
    into place, which fails for all but the first, so every worker reads the same complete key.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"portal.blueprints.{name}").bp)


def _register_templates(app: Flask) -> None:
    def url_with(**changes) -> str:
        """The current page with some query arguments changed (another language, the next page …)."""
        args = request.args.to_dict(flat=False) | {k: [str(v)] for k, v in changes.items()}
        return request.path + "?" + urlencode(args, doseq=True)

    # Display names, and the few station and deadline rules pages show (never whole service modules): globals of the
    # environment, so macros imported without context see them too.
    app.jinja_env.globals.update(vocabulary=vocabulary, facilities=stations.FACILITIES, weekdays=stations.WEEKDAYS,
                                 station_open=stations.is_open, open_all_day=stations.is_all_day,
                                 deadline_flags=sla.deadline_flags, reply_days=sla.reply_days,
                                 field_block=field_block)
    app.add_template_filter(stations.codes_of, "facility_codes")

    @app.context_processor
    def _globals():
        locale = str(get_locale())
        return {
            "locale": locale,
            "html_lang": i18n.html_lang(locale),
            # Called from the template only where the menu is drawn, so an error page that cannot reach
            # the database (to know who is signed in) can still render without it.
            "nav_items": lambda: navigation.items(current_user),
            "url_with": url_with,
            "hotline": app.config["HOTLINE"],
        }

    app.add_template_filter(sla.last_day, "last_day")

    @app.template_filter("working_days_left")
    def _working_days_left(due_at, now):
        return sla.working_days_left(sla.Deadline(due_at, False), now)

    @app.template_filter("age")
    def _age(moment, now) -> str:
        """"3 days ago", in the page's language."""
        return format_timedelta(moment - now, add_direction=True)

    @app.template_filter("distance")
    def _distance(metres: int) -> str:
        """350 m, 1.2 km, 12 km: as precise as a worker on the street needs."""
        if metres < 1000:
            return f"{metres} m"
        return f"{metres / 1000:.1f} km" if metres < 10_000 else f"{round(metres / 1000)} km"

    @app.template_filter("yuan")
    def _yuan(fen: int) -> str:
        """An amount in fen as money: ¥12.50."""
        return f"¥{fen // 100:,}.{fen % 100:02d}" if fen >= 0 else "-" + _yuan(-fen)

    @app.template_filter("mask_phone")
    def _mask_phone(phone: str) -> str:
        return phones.masked(phone or "")
