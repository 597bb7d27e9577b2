"""The input layer at the edge (portal/inputs.py). Path integers: every rule of app.url_map with an `<int:…>`
is asked for ids the database cannot hold and for digits that are not ASCII; a URL naming nothing is a 404,
never a 500, on SQLite and PostgreSQL alike (PostgreSQL refuses integers from 2^31 up)."""

from __future__ import annotations

import re

import pytest

from portal.inputs.parse import INT32_MAX
from portal.inputs.paths import IdConverter
from portal.models import Role
from tests.conftest import login

HOSTILE = ["2147483648", "99999999999999999999", "٣", "١٢٣", "²", "¹²", "１２", "0x1f", "-1", "1e3", "+1"]


def int_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]


def url_for_rule(rule, value: str) -> str:
    """The rule's path with `value` where every integer goes and a harmless word elsewhere."""
    return re.sub(r"<[^>]+>", "x", re.sub(r"<int:[^>]+>", value, rule.rule))


def method_of(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def test_every_integer_in_a_path_is_read_by_the_input_layer(app):
    rules = int_rules(app)
    assert len(rules) >= 20  # stations, tickets, files, merchants, redemptions, campaigns, offers, reports …
    assert app.url_map.converters["int"] is IdConverter


@pytest.mark.parametrize("value", HOSTILE)
def test_ids_beyond_the_column_and_foreign_digits_name_nothing(app, make_user, value):
    client = app.test_client()
    login(client, make_user(Role.ADMIN, None).phone)
    for rule in int_rules(app):
        path = url_for_rule(rule, value)
        response = client.open(path, method=method_of(rule))
        assert response.status_code == 404, (rule.rule, path, response.status_code)


def test_the_largest_id_the_column_holds_is_looked_up_and_not_found(app, make_user):
    """2^31 − 1 reaches the database (PostgreSQL INTEGER holds it): whatever the route answers, never a 500."""
    for role, region in [(Role.ADMIN, None), (Role.STAFF, "44"), (Role.MEMBER, None), (Role.MERCHANT, None)]:
        client = app.test_client()
        login(client, make_user(role, region).phone)
        for rule in int_rules(app):
            response = client.open(url_for_rule(rule, str(INT32_MAX)), method=method_of(rule))
            assert response.status_code < 500, (role, rule.rule, response.status_code)
