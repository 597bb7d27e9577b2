"""Schemathesis drives every operation of the OpenAPI document against a real gunicorn on the test database (SQLite,
or PostgreSQL when PORTAL_TEST_DATABASE_URL is set), with demo-like data to hit: stations, a merchant with its
terminal key and an offer, a member with vouchers and a card, a redemption still within its undo window, a partner
channel and its requests (made afresh for each operation, at the server's time). Each operation gets the
document's examples, Schemathesis' coverage cases (boundaries, values the schema refuses, methods it does not
list) and up to MAX_EXAMPLES generated cases, valid and invalid, derandomized with a fixed seed so every run sends
the same cases. One query parameter or body field of a case is often swapped for what an attacker sent (HOSTILE),
and ids, codes and card proofs for the data made (chosen by a CRC of what was generated, so still reproducible);
keyed operations get the right key, sometimes a wrong one, as X-API-Key or a Bearer token. Every answer must be:
no 5xx, a status the document gives for the operation, its content type, a body that validates against its schema
and the headers it requires.

The cases come from the document the package keeps; the live server serves the same one (checked below). Rate
limits are off on that server (tests/api/conftest.py: live_server), or the fuzz would meet a wall of 429s; the
429s themselves are checked in-process (test_benefits_api: each key has its own rate limit).

(schemathesis.pytest.from_fixture would load the schema from the live server, but with pytest 9 it fails on a
node attribute pytest no longer has, `_nodeid`; a schema loaded at import and a base URL per call do the same.)

Run it alone:  .venv/bin/python -m pytest -q -p no:cacheprovider tests/api/test_contract_fuzz.py
What was sent (operations, cases, the statuses seen) is written to artifacts/contract-fuzz-<database>.json.
"""

from __future__ import annotations

import json
import urllib.request
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.blueprints.api import reference
from portal.extensions import db
from portal.models import Membership, OfferKind
from portal.services import benefits, members, merchants, open311
from tests import factories
from tests.api.conftest import operation_of, operations
from tests.live import REPO, Client

MAX_EXAMPLES = 40  # generated cases per operation, on top of its examples and coverage cases
SEED = 20261113
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
SENT: dict[str, Counter] = defaultdict(Counter)  # operation → status → cases sent


@pytest.fixture
def demo(app, live_portal, clock):
    """Demo-like data at the server's time: what the document's examples will name."""
    now = clock.now()
    with app.app_context():
        stations = [factories.station(23.1353 + d, 113.3340, ("water", "seats", "charging"), now=now).id
                    for d in (0.0, 0.004, 0.02)]
        merchant, terminal_key = factories.merchant("catering", now=now)
        offer = merchants.add_offer(merchant, merchants.OfferData(title="会员九折", kind=OfferKind.PERCENT,
                                                                  percent_off=10), now)
        member = factories.member("delivery", now=now)
        campaign = factories.campaign(500, 100, now)
        codes = [v.code for v in factories.vouchers(member, campaign, 6, now)]
        redemption = benefits.redeem(merchant, benefits.Sale(bill_fen=3000, voucher_code=codes[0]), now,
                                     channel="till").redemption
        membership = db.session.get(Membership, member.id)
        channel, channel_key = open311.create_channel("契约测试渠道", now)
        numbers = [open311.create(channel, {"service_code": code, "description": "工地拖欠工资两个月。",
                                            "address_id": "440106006", "attribute[kind]": "appeal"}, None,
                                  now).ticket.number for code in ("labour.wages", "security.injury")]
        made = {"stations": stations, "terminal_key": terminal_key, "offer": offer.id, "codes": codes,
                "redemptions": [redemption.id], "token": members.card_token(membership, now),
                "card_code": members.card_code(membership, now), "channel_key": channel_key, "numbers": numbers}
        db.session.remove()
    return made


# What a case's path parameter or body may be swapped for, so that cases reach the data made (a generated id
# almost never names a row). Whether to swap, and for what, follows from the generated value itself (a CRC), so a
# run stays as reproducible as Schemathesis' derandomized generation.
LIVE_PATHS = {"station_id": "stations", "redemption_id": "redemptions", "number": "numbers"}


def _pick(seen, choices: list):
    """One of `choices`, or None (keep what was generated), chosen by what was generated."""
    n = zlib.crc32(repr(seen).encode()) % (len(choices) + 1)
    return choices[n - 1] if n else None


# What the attacker sent (issue 13), put now and then in a query parameter or a body field in place of
# what was generated: text no database keeps, digits int() reads but a column does not, out-of-range dates and
# numbers, a direction override, a long run of characters.
HOSTILE = ["\x00", "44-\x00", "²", "١٢٣", "１２", "9" * 30, "-1", "0001-01-01T00:00:00+08:00",
           "9999-12-31T23:59:59-08:00", "1e400", "NaN", "\u202e", "x" * 3000]


def _hostile(case) -> None:
    """At most one value of a case, so that what it does is not hidden behind another field's 400."""
    body = case.body if isinstance(case.body, dict) else {}
    targets = [(where, name) for where in (case.query or {}, body) for name in where]
    seen = (case.path_parameters, case.query, case.body)
    if (target := _pick(seen, [None, None, *targets])) is not None:
        where, name = target
        where[name] = HOSTILE[zlib.crc32(repr((seen, name)).encode()) % len(HOSTILE)]


def _live(case, made: dict) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        choices = made.get(LIVE_PATHS.get(name, ""), [])
        if name == "code":
            choices = made["codes"][1:] if "vouchers" in case.operation.path else ["labour.wages", "support.hardship"]
        if (swap := _pick(value, choices)) is not None:
            case.path_parameters[name] = swap
    if case.operation.path == "/api/v1/members/verify":
        case.body = _pick(case.body, [{"token": made["token"]}, {"code": made["card_code"]}]) or case.body


def _keys(case, made: dict) -> dict:
    """The key an operation's security asks for: the right one mostly, a wrong one sometimes (a 401 or 403), as
    X-API-Key or a Bearer token."""
    schemes = {name for option in case.operation.definition.raw.get("security", []) for name in option}
    seen = (case.path_parameters, case.query, case.body)
    if "terminalKey" in schemes:
        key = _pick(seen, [made["terminal_key"]] * 4 + ["wspm_not-a-key"]) or made["terminal_key"]
        return {"Authorization": f"Bearer {key}"} if _pick((seen, 1), ["bearer"]) else {"X-API-Key": key}
    if "channelKey" in schemes:
        return {"X-API-Key": _pick(seen, [made["channel_key"]] * 4 + ["wrong"]) or made["channel_key"]}
    return {}


# The document as the package keeps it; the live server's own is the same with its URL (test_openapi checks).
schema = schemathesis.openapi.from_dict(reference.document("http://127.0.0.1"), config=schemathesis.Config.from_dict({
    "seed": SEED,
    # No key of Schemathesis' own making: _keys gives each case its key (a made-up X-API-Key would win over a Bearer).
    "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "database": "none",
                   "with-security-parameters": False},
    "phases": {"stateful": {"enabled": False}},
}))


def test_the_live_server_serves_the_document_the_cases_come_from(live_portal):
    base = f"http://{live_portal.host}:{live_portal.port}"
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310 — our server
        assert json.load(response) == reference.document(base)


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/stations/nearby", "/open311/v2/requests.json"])
def test_a_request_line_past_gunicorns_limit_is_the_documented_414(live_portal, path):
    """Found by the fuzz (issue 13): two 3,000-character query values make a request line past gunicorn's 4,094
    bytes, which gunicorn answers itself (414, a short HTML page) before the portal sees the request; every
    operation of the document now gives that answer."""
    status, headers, _ = Client(live_portal).send("GET", f"{path}?q={'x' * 2500}&r={'x' * 2500}")
    _, operation = operation_of("GET", path)
    answer = reference.resolve(reference.stored(), operation["responses"][str(status)])
    assert status == 414 and list(answer["content"]) == [headers["Content-Type"].split(";")[0]] == ["text/html"]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, live_portal, demo):
    _live(case, demo)
    _hostile(case)
    response = case.call(base_url=f"http://{live_portal.host}:{live_portal.port}", headers=_keys(case, demo),
                         timeout=30)
    SENT[case.operation.label][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def test_the_fuzz_reached_every_operation(database_url):
    """Run after the fuzz (pytest keeps a module's order): every operation was sent cases and answered some with
    a 2xx, so the data made for it was really hit. The figures go to artifacts/ for the issue's notes."""
    labels = {f"{method} {path}" for method, path in operations()}
    assert set(SENT) == labels
    never_ok = sorted(label for label, statuses in SENT.items() if not any(200 <= s < 300 for s in statuses))
    assert never_ok == []
    out = REPO / "artifacts" / f"contract-fuzz-{'postgresql' if database_url.startswith('postgres') else 'sqlite'}.json"
    out.parent.mkdir(exist_ok=True)
    summary = {"operations": len(SENT), "cases": sum(sum(s.values()) for s in SENT.values()),
               "statuses": {label: dict(sorted(s.items())) for label, s in sorted(SENT.items())}}
    Path(out).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
