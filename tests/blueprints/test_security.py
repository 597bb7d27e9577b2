"""The security baseline of SECURITY.md that applies to the shell: headers, cookies, CSRF everywhere,
htmx hardening and the production configuration."""

import json
import os
import re
import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from portal import _instance_secret, create_app
from portal.extensions import db
from portal.models import LoginSession, Region, User
from tests.conftest import config_for, csrf_token

SAMPLE = ["/", "/login", "/unions", "/healthz", "/no-such-page", "/api/v1/nothing"]


@pytest.mark.parametrize("path", SAMPLE)
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    content_type = headers["Content-Type"]
    assert "charset=utf-8" in content_type or content_type == "application/json"  # JSON is UTF-8 by spec


def test_no_inline_script_anywhere(client):
    for path in ["/", "/login", "/unions", "/no-such-page"]:
        html = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
        assert not re.search(r"\son\w+=|hx-on|style=", html)


def test_htmx_is_self_hosted_and_hardened(client):
    html = client.get("/").get_data(as_text=True)
    assert re.findall(r'<script src="([^"?]+)(?:\?v=[0-9a-f]{12})?"', html) == ["/static/vendor/htmx/htmx.min.js"]
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'", html).group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0 and config["includeIndicatorStyles"] is False
    assert config["selfRequestsOnly"] is True


def test_every_page_carries_a_working_csrf_header_for_htmx(client, login_as):
    login_as("member")
    token = csrf_token(client, "/account")
    assert client.post("/logout", headers={"X-CSRFToken": token, "HX-Request": "true"}).status_code == 204


def _state_changing_rules(app):
    """Every rule that changes state, with placeholder values for its arguments (CSRF is checked first)."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        methods = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if methods:
            yield adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, "1"), method=next(iter(methods))), \
                rule.endpoint, methods


# Endpoints deliberately without CSRF: authenticated by a partner's API key, never by a cookie.
CSRF_EXEMPT = {"open311.create_request", "api.verify_member", "api.redeem_voucher", "api.undo_redemption"}


def test_every_state_changing_route_requires_a_csrf_token(app, client, login_as):
    login_as("admin")
    checked = 0
    for url, endpoint, methods in _state_changing_rules(app):
        if endpoint in CSRF_EXEMPT:
            continue
        for method in methods:
            response = client.open(url, method=method, data={})
            assert response.status_code == 400, f"{method} {url} accepted a request without a CSRF token"
            checked += 1
    assert checked >= 8
    exempt_locations = app.extensions["csrf"]._exempt_views  # "module.function" of each exempt view
    exempt = {endpoint for endpoint, view in app.view_functions.items()
              if f"{view.__module__}.{view.__name__}" in exempt_locations}
    assert exempt == CSRF_EXEMPT


def test_get_requests_change_nothing(app, client, login_as):
    login_as("staff", region="4401")

    def snapshot():
        with app.app_context():
            counts = tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Region, User,
                                                                                         LoginSession))
            db.session.remove()
            return counts

    before = snapshot()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            client.get(rule.rule)
    assert snapshot() == before


def test_https_posts_need_a_same_origin_referer(app, make_user):
    make_user(phone="13800000001")
    secure = app.test_client()
    html = secure.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"phone": "13800000001", "password": "Correct-Horse-9", "csrf_token": token}
    for referer in (None, "https://evil.example/login"):
        headers = {"Referer": referer} if referer else {}
        response = secure.post("/login", base_url="https://localhost", data=data, headers=headers)
        assert response.status_code == 400
    ok = secure.post("/login", base_url="https://localhost", data=data,
                     headers={"Referer": "https://localhost/login"})
    assert ok.status_code == 303


def test_cors_is_never_reflected(client):
    response = client.get("/api/v1/nothing", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def production_app(make_app):
    return make_app(ENVIRONMENT="production", TRUSTED_HOSTS=["portal.example.cn"], TESTING=False)


def test_production_cookies_are_secure_host_only_and_samesite(production_app, make_user, clock):
    make_user(phone="13800000001")
    client = production_app.test_client()
    base = "https://portal.example.cn"
    html = client.get("/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", base_url=base, headers={"Referer": base + "/login"},
                           data={"phone": "13800000001", "password": "Correct-Horse-9", "csrf_token": token,
                                 "remember": "y"})
    assert response.status_code == 303
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("__Host-session", "__Host-remember"):
        cookie = cookies[name]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Domain=" not in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookies["__Host-remember"]).group(1))
    assert timedelta(days=13) < expires - clock.wall() <= timedelta(days=14)  # Flask-Login dates it by the real clock


def test_production_sends_hsts_and_answers_only_its_hosts(production_app):
    client = production_app.test_client()
    ok = client.get("/healthz", base_url="https://portal.example.cn")
    assert ok.status_code == 200
    assert ok.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/healthz", base_url="https://evil.example").status_code == 400
    assert production_app.debug is False and production_app.testing is False


def test_production_refuses_to_start_without_trusted_hosts(database_url):
    with pytest.raises(RuntimeError, match="TRUSTED_HOSTS"):
        create_app(config_for(database_url, ENVIRONMENT="production"))


def test_short_secret_keys_are_refused(database_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config_for(database_url, SECRET_KEY="short"))


def test_the_secret_key_is_generated_once_into_instance(tmp_path):
    path = tmp_path / "secret_key"
    keys = []
    threads = [threading.Thread(target=lambda: keys.append(_instance_secret(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert _instance_secret(path) == keys[0]
    assert list(tmp_path.iterdir()) == [path]


def test_durations_from_the_environment_are_seconds(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_IDLE_TIMEOUT", "600")
    monkeypatch.setenv("PORTAL_TRUSTED_HOSTS", '["a.example", "b.example"]')
    app = make_app()
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=10)
    assert app.config["TRUSTED_HOSTS"] == ["a.example", "b.example"]
