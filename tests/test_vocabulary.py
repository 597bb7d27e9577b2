"""portal.vocabulary names every code the services and models define, so no page meets a code without a name;
and templates get those names and a few named helpers, never whole service modules."""

import ast
import types
from pathlib import Path

import pytest

from portal import vocabulary
from portal.models import (
    Kind,
    LimitPeriod,
    MembershipStatus,
    MerchantCategory,
    NoticeKind,
    OfferKind,
    Rating,
    Role,
    StationKind,
    Status,
)
from portal.services import ledger, members, stations, taxonomy

BLUEPRINTS = Path(__file__).resolve().parent.parent / "portal" / "blueprints"
RENDERERS = {"render_template", "render_page_or_partial"}

NAMED = {
    "KIND_LABELS": set(Kind),
    "KIND_DESCRIPTIONS": set(Kind),
    "GROUP_LABELS": {g.code for g in taxonomy.TAXONOMY},
    "CATEGORY_LABELS": set(taxonomy.CATEGORIES),
    "LEDGER_CHANNEL_LABELS": set(ledger.CHANNELS),
    "STATUS_LABELS": set(Status),
    "RATING_LABELS": set(Rating),
    "NOTICE_LABELS": set(NoticeKind),
    "ROLE_LABELS": set(Role),
    "STATION_KIND_LABELS": set(StationKind),
    "FACILITY_LABELS": set(stations.FACILITIES),
    "WEEKDAY_LABELS": set(stations.WEEKDAYS),
    "OCCUPATION_LABELS": set(members.OCCUPATIONS),
    "MEMBERSHIP_STATUS_LABELS": set(MembershipStatus),
    "MERCHANT_CATEGORY_LABELS": set(MerchantCategory),
    "OFFER_KIND_LABELS": set(OfferKind),
    "LIMIT_PERIOD_LABELS": set(LimitPeriod),
}


@pytest.mark.parametrize("table", sorted(NAMED))
def test_every_code_has_a_name(table):
    assert set(getattr(vocabulary, table)) == NAMED[table]


def test_templates_get_no_service_module_from_the_app(app):
    with app.test_request_context("/"):
        context = {}
        app.update_template_context(context)
    given = {**app.jinja_env.globals, **context}
    assert [n for n, v in given.items() if isinstance(v, types.ModuleType) and v is not vocabulary] == []


def _service_modules(tree: ast.Module) -> set[str]:
    """Names a blueprint module binds to portal.services modules."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "portal.services":
            bound |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            bound |= {a.asname for a in node.names if a.asname and a.name.startswith("portal.services.")}
    return bound


@pytest.mark.parametrize("path", sorted(BLUEPRINTS.rglob("*.py")), ids=lambda p: str(p.relative_to(BLUEPRINTS)))
def test_views_pass_templates_no_service_module(path):
    """What a page shows is computed by the view, or is a name from portal.vocabulary."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = _service_modules(tree)
    for node in ast.walk(tree):
        given = []
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in RENDERERS:
            given = [k.value for k in node.keywords]
        elif isinstance(node, ast.FunctionDef) and any("context_processor" in ast.unparse(d)
                                                       for d in node.decorator_list):
            given = [v for d in ast.walk(node) if isinstance(d, ast.Dict) for v in d.values]
        passed = [v.id for v in given if isinstance(v, ast.Name) and v.id in modules]
        assert passed == [], f"{path.name}:{node.lineno} gives templates the modules {passed}"


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_no_two_statuses_share_a_label(app, locale):
    """A worker, or a member of staff filtering, tells every status from every other by its name alone."""
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(locale):
        labels = [str(vocabulary.STATUS_LABELS[s]) for s in Status]
        in_hand = str(vocabulary.STATUS_LABELS[Status.IN_PROGRESS])
        more_time = str(vocabulary.STATUS_LABELS[Status.EXTENSION_REQUESTED])
    assert len(set(labels)) == len(labels), sorted(labels)
    assert more_time.startswith(in_hand) and more_time != in_hand  # still "being handled", and says more
