"""The OpenAPI 3.1 document (portal/blueprints/api/openapi.json): valid by a third-party validator, in step with the
URL map both ways, served with this server's URL, and shown as a readable page in both languages. The API tests
check their responses against it (tests/api/conftest.py: conforms); test_contract_fuzz.py drives every operation."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from portal.blueprints.api import reference
from portal.models import Channel, MembershipStatus, OfferKind, StationKind
from portal.services import merchants, stations, taxonomy
from tests.api.conftest import conforms, operations

PREFIXES = ("/api/v1/", "/open311/v2/")
DOCUMENTED = reference.stored()


def test_the_served_document_is_valid_openapi_3_1(client):
    response = conforms(client.get("/api/v1/openapi.json"))
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served["openapi"].startswith("3.1.")
    validate(served, cls=OpenAPIV31SpecValidator)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert served["servers"] == [{"url": "http://localhost", "description": "This server"}]
    assert {k: v for k, v in served.items() if k != "servers"} == {k: v for k, v in DOCUMENTED.items()
                                                                   if k != "servers"}


def test_the_server_is_the_one_the_client_reached(client):
    served = client.get("/api/v1/openapi.json", base_url="http://127.0.0.1:8000").get_json()
    assert served["servers"][0]["url"] == "http://127.0.0.1:8000"


def _routes(app) -> set[tuple[str, str]]:
    """(METHOD, path as the document writes it) of every route under /api/v1 and /open311/v2."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIXES):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_route_is_in_the_document_and_nothing_else(app):
    routes = _routes(app)
    assert len(routes) == 16  # 8 JSON operations and 2 of this document under /api/v1, 6 of GeoReport v2
    assert routes - operations() == set(), "routes the OpenAPI document does not describe"
    assert operations() - routes == set(), "operations in the OpenAPI document that no route serves"


def _operations():
    for path, item in DOCUMENTED["paths"].items():
        for method in (m for m in item if m in reference.METHODS):
            yield path, method, item[method]


@pytest.mark.parametrize(("path", "method", "operation"), list(_operations()),
                         ids=[f"{m.upper()} {p}" for p, m, _ in _operations()])
def test_each_operation_is_described_whole(path, method, operation):
    """An id and a summary, every path parameter declared, errors in the area's own error form, and a key
    scheme where a key is needed."""
    assert re.fullmatch(r"[a-z][A-Za-z0-9]+", operation["operationId"]) and operation["summary"]
    declared = {reference.resolve(DOCUMENTED, p)["name"] for p in operation.get("parameters", [])
                if reference.resolve(DOCUMENTED, p)["in"] == "path"}
    assert declared == set(re.findall(r"{([^}]+)}", path))
    error_form = "GeoReportErrors" if path.startswith("/open311/") else "ApiError"
    for status, answer in operation["responses"].items():
        answer = reference.resolve(DOCUMENTED, answer)
        assert answer["description"]
        if status == "414":  # gunicorn's own answer, before the portal sees the request
            assert list(answer["content"]) == ["text/html"]
        elif status >= "400":
            assert answer["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{error_form}"}
    assert {"414", "503"} <= set(operation["responses"])  # any request line may be too long, any database away
    keyed = {"verifyMember", "redeemVoucher", "redemption", "undoRedemption", "geoCreateRequest"}
    assert bool(operation.get("security")) == (operation["operationId"] in keyed)


def test_the_documents_vocabularies_are_the_codes_of_the_code():
    """Enumerations copied into the document, checked against where they live."""
    schemas = DOCUMENTED["components"]["schemas"]
    assert schemas["Facility"]["enum"] == list(stations.FACILITIES)
    assert schemas["ServiceCode"]["enum"] == [c.code for g in taxonomy.TAXONOMY for c in g.categories]
    assert schemas["StationProperties"]["properties"]["kind"]["enum"] == [k.value for k in StationKind]
    assert schemas["Membership"]["properties"]["status"]["enum"] == [s.value for s in MembershipStatus]
    assert schemas["Offer"]["properties"]["kind"]["enum"] == [k.value for k in OfferKind]
    assert list(schemas["PublicFigures"]["properties"]["contacts"]["properties"]) == [c.value for c in Channel] + [
        "total"]
    assert schemas["WeeklyHours"]["required"] == list(stations.WEEKDAYS)
    redeem = schemas["RedeemRequest"]["properties"]["bill_fen"]
    assert (redeem["minimum"], redeem["maximum"]) == (1, merchants.MAX_BILL_FEN)
    nearby = {p["name"]: p["schema"] for p in DOCUMENTED["paths"]["/api/v1/stations/nearby"]["get"]["parameters"]}
    assert (nearby["radius_m"]["maximum"], nearby["limit"]["maximum"]) == (stations.MAX_RADIUS_M, stations.MAX_LIMIT)


def test_every_schema_and_response_is_used():
    text = json.dumps(DOCUMENTED["paths"]) + json.dumps(DOCUMENTED["components"])
    for kind in ("schemas", "responses", "parameters", "securitySchemes"):
        for name in DOCUMENTED["components"][kind]:
            used = f'"#/components/{kind}/{name}"' in text or (kind == "securitySchemes" and f'"{name}"' in
                                                                json.dumps(DOCUMENTED["paths"]))
            assert used, f"components/{kind}/{name} is never used"


@pytest.mark.parametrize(("query", "title", "labels"), [
    ("", "接口文档", ("参数", "应答", "数据结构", "身份认证", "OpenAPI 描述文件（JSON）")),
    ("?lang=en", "API reference", ("Parameters", "Responses", "Schemas", "Authentication",
                                   "The OpenAPI document (JSON)")),
])
def test_the_reference_page_lists_everything_in_both_languages(client, query, title, labels):
    response = conforms(client.get(f"/api/v1/docs{query}"))
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html and all(label in html for label in labels)
    assert 'href="http://localhost/api/v1/openapi.json"' in html and "<code>http://localhost</code>" in html
    # the base template's htmx (its URL carries the file's hash) is the only script
    assert "<script" not in re.sub(r'<script src="/static/vendor/htmx/htmx\.min\.js\?v=[0-9a-f]+" defer></script>', "",
                                   html)
    for path, method, operation in _operations():
        assert f'id="op-{operation["operationId"]}"' in html
        assert f"<code>{method.upper()} {path.replace('/', '/<wbr>')}</code>" in html
        for status in operation["responses"]:
            assert f">{status}</span>" in html
    for name, schema in DOCUMENTED["components"]["schemas"].items():
        assert f'id="schema-{name}"' in html and f'href="#schema-{name}"' in html
        for prop in schema.get("properties", schema.get("items", {}).get("properties", {})):
            assert f"<code>{prop}</code>" in html
    for nested in ("rates.on_time", "ranking[].tickets", "endpoints[].url", "error.request_id", "member.number"):
        assert f"<code>{nested}</code>" in html
    for name in DOCUMENTED["components"]["securitySchemes"]:
        assert f'id="scheme-{name}"' in html


def test_the_reference_page_shows_parameters_and_bodies(client):
    html = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
    nearby = html.split('id="op-nearbyStations"', 1)[1].split("</article>", 1)[0]
    assert "<code>lat</code>" in nearby and "number (minimum: -90, maximum: 90)" in nearby
    assert 'array of <a href="#schema-Facility">Facility</a>' in nearby and "Example: <code>23.1353</code>" in nearby
    redeem = html.split('id="op-redeemVoucher"', 1)[1].split("</article>", 1)[0]
    assert '<code>application/json</code>: <code><a href="#schema-RedeemRequest">RedeemRequest</a></code>' in redeem
    assert "<code>Idempotency-Key</code>" in redeem and "<code>Location</code>" in redeem
    assert '<a href="#scheme-terminalKey"><code>terminalKey</code></a>' in redeem


def test_conforms_catches_what_the_document_does_not_allow(app):
    """The check itself: a wrong body, an undocumented status, a missing header and an unknown route fail it."""
    def answer(body, status=200, **headers):
        return app.response_class(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    feature = {"type": "Feature", "id": 1, "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    with pytest.raises(AssertionError, match="properties"):
        conforms(answer(feature), "GET", "/api/v1/stations/1")
    with pytest.raises(AssertionError, match="answered 418"):
        conforms(answer({}, 418), "GET", "/api/v1/stations/1")
    error = {"error": {"status": 429, "message": "slow down", "request_id": None}}
    with pytest.raises(AssertionError, match="Retry-After"):
        conforms(answer(error, 429), "GET", "/api/v1/stations/1")
    conforms(answer(error, 429, **{"Retry-After": "30"}), "GET", "/api/v1/stations/1")
    with pytest.raises(AssertionError, match="no path"):
        conforms(answer({}), "GET", "/api/v2/stations")
    with pytest.raises(AssertionError, match="text/html"):
        conforms(app.response_class("<p>", status=404, mimetype="text/html"), "GET", "/api/v1/stations/1")
