"""Bad input gets a clear page or JSON body in the right language — never a 500, never a stack trace."""

import sqlite3

import pytest
from flask import abort
from sqlalchemy import text
from werkzeug.exceptions import InternalServerError

from portal.database import begin_write
from portal.extensions import db, limiter


@pytest.mark.parametrize(("lang", "text"), [("zh", "找不到"), ("en", "could not find")])
def test_unknown_routes_get_a_404_page_in_the_visitors_language(client, lang, text):
    response = client.get(f"/no/such/page?lang={lang}")
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_wrong_method_gets_405_with_allow(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert client.open("/", method="TRACE").status_code == 405


def test_oversized_bodies_get_413(app, client):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True)


def test_an_untrusted_host_gets_400(client):
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400


@pytest.mark.parametrize(("path", "shape"), [("/api/v1/nothing", dict), ("/open311/v2/nothing.json", list)])
def test_api_errors_are_json(client, path, shape):
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and response.is_json
    body = response.json
    assert isinstance(body, shape)
    if shape is dict:
        assert body["error"]["status"] == 404 and body["error"]["message"]
    else:  # Open311 GeoReport v2: an array of {code, description}
        assert body[0]["code"] == 404 and body[0]["description"]


def test_a_member_on_a_staff_page_gets_403(client, login_as):
    login_as("member")
    response = client.get("/staff/")
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)


@pytest.fixture
def broken_app(make_app):
    app = make_app()
    app.config["TESTING"] = False  # let the error handler run, as in production

    @app.get("/boom")
    def boom():  # registered on this throwaway app only
        raise RuntimeError("secret internals /srv/portal SELECT * FROM user_account")

    @app.get("/api/boom")
    def api_boom():
        raise InternalServerError()

    boom.access = api_boom.access = "public"
    return app


def test_an_unexpected_error_shows_a_generic_page_with_a_reference(broken_app, caplog):
    response = broken_app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html and "secret internals" not in html and "SELECT" not in html
    reference = response.headers["X-Request-ID"]
    assert reference in html
    assert reference in caplog.text and "RuntimeError" in caplog.text
    assert broken_app.test_client().get("/api/boom").json["error"]["status"] == 500


def test_healthz_answers_503_when_the_database_cannot_be_reached(make_app, tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert response.json == {"status": "unavailable", "database": "unreachable"}


TITLES = {400: ("请求有误", "Bad request"), 403: ("无权访问", "Not allowed"), 404: ("找不到页面", "Page not found"),
          405: ("不支持此操作", "Not allowed here"), 413: ("内容太大", "Too large"),
          429: ("尝试次数太多", "Too many attempts"), 500: ("出错了", "Something went wrong")}


@pytest.mark.parametrize("status", sorted(TITLES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_error_page_exists_in_both_languages(make_app, status, lang):
    app = make_app(TESTING=False)

    @app.get("/fail/<int:code>")
    def fail(code):  # registered on this throwaway app only
        abort(code)

    fail.access = "public"
    response = app.test_client().get(f"/fail/{status}?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert TITLES[status][0 if lang == "zh" else 1] in html
    assert "Traceback" not in html and "Werkzeug" not in html


@pytest.fixture
def locked_app(make_app, tmp_path):
    """A throwaway app on a SQLite file whose write lock another connection holds; its routes try to write."""
    path = tmp_path / "locked.sqlite3"
    app = make_app(f"sqlite:///{path}", DB_LOCK_TIMEOUT_S=0.2)
    app.config["TESTING"] = False  # let the error handlers run, as in production

    def route(rule: str, writes: bool):
        def view():  # a function of its own per rule, registered on this throwaway app only
            if writes:
                begin_write()
                return "written"
            db.session.execute(text("SELECT * FROM no_such_table"))

        view.access = "public"
        app.add_url_rule(rule, endpoint=rule, view_func=view)

    for rule in ("/write", "/api/write", "/open311/v2/write.json"):
        route(rule, writes=True)
    for rule in ("/bug", "/api/bug"):
        route(rule, writes=False)
    with app.app_context():  # the app's first connection puts the file in WAL mode, where readers never wait
        db.session.execute(text("SELECT 1"))
        db.session.remove()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield app
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.parametrize(("lang", "words"), [("zh", "服务暂时繁忙"), ("en", "not recorded")])
def test_a_database_fault_is_a_503_page_with_retry_after_in_the_visitors_language(locked_app, lang, words):
    response = locked_app.test_client().get(f"/write?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert words in html and "locked" not in html and "Traceback" not in html


def test_a_database_fault_under_the_apis_is_their_error_body(locked_app):
    client = locked_app.test_client()
    api = client.get("/api/write", headers={"Accept-Language": "en"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "10"
    assert api.json["error"]["status"] == 503 and "not recorded" in api.json["error"]["message"]
    open311 = client.get("/open311/v2/write.json", headers={"Accept-Language": "en"})
    assert open311.status_code == 503 and open311.headers["Retry-After"] == "10"
    assert open311.json[0]["code"] == 503 and "not recorded" in open311.json[0]["description"]


def test_a_database_error_that_is_a_bug_stays_a_500(locked_app):
    client = locked_app.test_client()
    assert client.get("/bug").status_code == 500 and "Retry-After" not in client.get("/bug").headers
    assert client.get("/api/bug").json["error"]["status"] == 500


def test_the_503_keeps_its_retry_after_on_a_rate_limited_route(locked_app, monkeypatch):
    """Flask-Limiter writes its window's reset into Retry-After on a limited route (an hour away for the grievance
    form); the fault's own value stands."""
    limited = limiter.limit("20 per hour")(locked_app.view_functions["/write"])
    monkeypatch.setitem(locked_app.view_functions, "/write", limited)
    response = locked_app.test_client().get("/write")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert response.headers["X-RateLimit-Limit"] == "20"  # the limiter did see it
