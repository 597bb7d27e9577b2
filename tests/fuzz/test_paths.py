"""Every path parameter of app.url_map, driven by Hypothesis with hostile values: integers beyond any column,
Unicode digits, NUL, lone surrogates (as a browser and as an attacker would send them), raw bytes that are not
UTF-8, very long values, dots, slashes, bidirectional marks, emoji, SQL and HTML. Each method a rule allows is
sent (a form post with a valid CSRF token, a JSON post to the APIs), as an anonymous visitor and as each role the
route lets past its access check, with real rows in the other parameters. Never a 5xx, only the statuses of
conftest.ALLOWED, no stack trace, nothing unstorable sent to the database (tests/fuzz/conftest.py: the probe).
"""

from __future__ import annotations

import re
import zlib

import pytest
from hypothesis import example, given, seed
from hypothesis import strategies as st

from portal.access import PUBLIC
from portal.models import Role
from tests.fuzz.conftest import (
    ANONYMOUS,
    PATH_VALUES,
    TILL,
    fuzz_settings,
    hostile_path_value,
    real_value,
    roles_for,
    send,
)

EXAMPLES_PER_RULE = 15  # generated, after the explicit PATH_VALUES in each parameter under each method
PARAMETER = re.compile(r"<(?:[a-zA-Z_]\w*(?:\([^)]*\))?:)?([a-zA-Z_]\w*)>")


def access_of(app, rule):
    return getattr(app.view_functions[rule.endpoint], "access", PUBLIC)  # Flask's static files: public


def rules_with_parameters(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.arguments), key=lambda r: (r.rule, r.endpoint))


def path_of(rule, values: dict[str, bytes]) -> str:
    """PATH_INFO as a WSGI server gives it: the path's bytes (each parameter's value as sent), read as latin-1."""
    parts = PARAMETER.split(rule.rule)  # literal, name, literal, name … literal
    out = b"".join(part.encode() if i % 2 == 0 else values[part] for i, part in enumerate(parts))
    return out.decode("latin-1")


def body_for(rule, method: str, world, role: str) -> dict:
    if method in ("GET", "HEAD", "DELETE"):
        return {}
    if rule.rule.startswith(("/api/", "/open311/")):
        return {"json": {}}
    return {"data": {"csrf_token": world.tokens[role]}}


def fuzz_rule(app, world, watch, role: str, rule, counter: list[int]) -> None:
    client = world.client(role)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    arguments = sorted(rule.arguments)
    drawn_request = st.tuples(st.sampled_from(methods), st.sets(st.sampled_from(arguments), min_size=1),
                              st.fixed_dictionaries({a: hostile_path_value() for a in arguments}))

    @fuzz_settings(EXAMPLES_PER_RULE)
    @given(drawn_request)
    def run(drawn):
        method, fuzzed, hostile = drawn
        values = {a: hostile[a] if a in fuzzed else real_value(world, rule.endpoint, a).encode() for a in arguments}
        path = path_of(rule, values)
        counter[0] += 1
        problem = send(client, watch, method, path, headers=world.headers(role), **body_for(rule, method, world, role))
        assert problem is None, f"{method} {path.encode('latin-1')!r} as {role}: {problem}"

    for argument in arguments:
        for value in PATH_VALUES:
            for method in methods:
                run = example((method, {argument}, dict.fromkeys(arguments, value)))(run)
    seed(zlib.crc32(f"{role} {rule.rule} {rule.endpoint}".encode()))(run)()


@pytest.mark.parametrize("role", [ANONYMOUS, *Role, TILL], ids=str)
def test_hostile_path_parameters_never_make_a_500(app, world, watch, role):
    rules = [r for r in rules_with_parameters(app) if role in roles_for(access_of(app, r))]
    assert rules, f"no rule with a parameter lets {role} past its access check"
    counter, failures = [0], []
    for rule in rules:
        try:
            fuzz_rule(app, world, watch, role, rule, counter)
        except AssertionError as error:  # every rule is tried; the report lists each one's smallest example
            notes = "\n".join(getattr(error, "__notes__", []))
            failures.append(f"{rule.rule} ({rule.endpoint}): {error}\n{notes}")
    print(f"paths as {role}: {len(rules)} rules, {counter[0]} examples, {len(failures)} failing, "
          f"answers {dict(sorted(watch.answers.items()))}")
    assert not failures, f"{len(failures)} of {len(rules)} rules failed as {role}:\n\n" + "\n\n".join(failures)


def test_every_rule_with_a_parameter_is_fuzzed_past_its_access_check(app):
    """Anonymous visitors reach every rule's converters; each rule also has a role its declaration lets in
    (for a public rule, nobody at all), so the checks after access control run too."""
    rules = rules_with_parameters(app)
    assert len(rules) >= 30  # tickets, stations, merchants, campaigns, codes, Open311's <code>.json, static …
    for rule in rules:
        assert roles_for(access_of(app, rule))[0] == ANONYMOUS and len(roles_for(access_of(app, rule))) > 1, rule
