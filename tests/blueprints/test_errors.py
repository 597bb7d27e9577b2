"""Bad input gets a clear page or JSON body in the right language — never a 500, never a stack trace."""

import pytest
from flask import abort
from werkzeug.exceptions import InternalServerError


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
    assert response.status_code == 503
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
