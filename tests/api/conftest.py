"""What the API tests share: `conforms`, which checks a response against the OpenAPI document, and a real gunicorn
serving the test database, for the race tests and the contract fuzz (the data builders are tests/conftest.py's)."""

from __future__ import annotations

import os
import re
import tempfile
from functools import cache
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from portal.blueprints.api import reference
from tests.conftest import config_for
from tests.live import gunicorn, server_time

# --------------------------------------------------------------------------------- the contract, in tests

SPEC_URI = "urn:portal:openapi"
FORMATS = FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value) -> bool:
    """jsonschema checks `uri` only with rfc3987 installed: an absolute URL is what the API gives."""
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and (parts.netloc or parts.path))


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(reference.stored()))


@cache
def _templates() -> list[tuple[re.Pattern, str]]:
    """Each path of the document as a pattern; literal paths first (/stations/nearby before /stations/{id})."""
    paths = sorted(reference.stored()["paths"], key=lambda p: (p.count("{"), p))
    return [(re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                                for part in re.split(r"(\{[^}]+\})", p)) + r"\Z"), p) for p in paths]


def operation_of(method: str, path: str) -> tuple[str, dict]:
    """The document's path template and operation for a request, or the test fails: an undocumented route."""
    for pattern, template in _templates():
        if pattern.match(path):
            operation = reference.stored()["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not in the OpenAPI document"
            return template, operation
    raise AssertionError(f"{method} {path}: no path of the OpenAPI document matches")


def _located(item: dict, pointer: str) -> tuple[dict, str]:
    """Follow a `$ref`, keeping the pointer of where the object is (schemas inside it resolve from there)."""
    while "$ref" in item:
        pointer = item["$ref"].removeprefix("#")
        item = reference.resolve(reference.stored(), item)
    return item, pointer


def _valid(value, pointer: str, what: str) -> None:
    validator = OAS31Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry(), format_checker=FORMATS)
    problems = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not problems, f"{what} does not conform to the OpenAPI document:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in problems[:10])


def _header_value(raw: str, schema: dict):
    return int(raw) if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", raw) else raw


def conforms(response, method: str | None = None, path: str | None = None):
    """Check a test client's response against the OpenAPI document: its status is documented for the operation
    (found from the request, or `method` and `path`), its content type is one the document gives, its body
    validates against that schema (formats included) and each documented header is there when required and
    valid when present. Returns the response, so a test can go on with it."""
    method, path = method or response.request.method, path or response.request.path
    template, operation = operation_of(method, path)
    where = _pointer("paths", template, method.lower(), "responses")
    status = str(response.status_code)
    documented = operation["responses"]
    assert status in documented, (f"{method} {template} answered {status}, which the document does not give "
                                  f"(only {', '.join(sorted(documented))}): {response.get_data(as_text=True)[:300]}")
    answer, where = _located(documented[status], f"{where}/{status}")
    what = f"{method} {template} → {status}"
    content = answer.get("content", {})
    if not content:
        assert not response.get_data(), f"{what} has a body the document does not describe"
    else:
        assert response.mimetype in content, f"{what} is {response.mimetype}, the document says {sorted(content)}"
        if response.mimetype == "application/json":
            _valid(response.get_json(), f"{where}/content/{_pointer(response.mimetype)[1:]}/schema", what)
    for name, header in answer.get("headers", {}).items():
        header, header_at = _located(header, f"{where}/headers/{_pointer(name)[1:]}")
        raw = response.headers.get(name)
        assert raw is not None or not header.get("required"), f"{what} lacks the header {name}"
        if raw is not None:
            _valid(_header_value(raw, header.get("schema", {})), f"{header_at}/schema", f"{what}, header {name}")
    return response


def operations() -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in the document."""
    return {(m.upper(), p) for p, item in reference.stored()["paths"].items() for m in item if m in reference.METHODS}


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory):
    """gunicorn (4 processes × 4 threads) on 127.0.0.1 serving the test database, configured as `config_for`
    configures the test app; yields (host, port). Tests make their data in-process: it is the same database,
    and `_clean` empties it after each test as usual. Rate limits are lifted: the clients are all 127.0.0.1."""
    config = config_for(database_url)
    log_path = tmp_path_factory.mktemp("live-api") / "gunicorn.log"
    env = os.environ | {
        "PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": config["SECRET_KEY"],
        "PORTAL_DATABASE_URL": database_url, "PORTAL_PASSWORD_HASH_METHOD": config["PASSWORD_HASH_METHOD"],
        "PORTAL_UPLOAD_DIR": tempfile.mkdtemp(prefix="portal-uploads-"),
        "PORTAL_LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "PORTAL_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "PORTAL_TILL_LIMIT_PER_KEY": "100000 per minute",
        "PORTAL_SUBMIT_LIMIT_PER_ADDRESS": "100000 per minute",
        # and every other limit (the API's per address among them): the contract fuzz sends thousands of requests
        "PORTAL_RATELIMIT_ENABLED": "false",
    }
    with gunicorn(env, log_path, "--workers", "4", "--worker-class", "gthread", "--threads", "4") as port:
        yield SimpleNamespace(host="127.0.0.1", port=port, log=log_path)


@pytest.fixture
def live_portal(live_server, clock):
    """The live server, with the test's clock set to the server's. The server reads the real clock (no fixture
    reaches into another process), so what the test makes in-process must be made at the server's time: its
    Date header gives it, whatever the day or hour the suite runs."""
    clock.set(server_time(f"http://{live_server.host}:{live_server.port}/healthz"))
    return live_server
