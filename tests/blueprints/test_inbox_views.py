"""The inbox page's views (issue 14, item 5): it opens on "to accept" for the viewer's union, with a tab per view
and its count; tabs and filters keep working without JavaScript and as htmx fragments; every link to a case is
a tap target (the whole row, or a padded link in the supervision list)."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import Role, Status
from tests.conftest import login
from tests.factories import NOW, ticket

S = Status


@pytest.fixture
def province(app, make_user):
    """The province's staff signed in, with two new cases, one in hand and one passed down to the city."""
    with app.app_context():
        made = {name: ticket(status, token=f"views-{name}", now=NOW).number for name, status in
                (("new", S.SUBMITTED), ("new2", S.SUBMITTED), ("in_hand", S.ACCEPTED), ("down", S.DISPATCHED))}
        db.session.remove()
    client = app.test_client()
    assert login(client, make_user(Role.STAFF, region="44").phone).status_code == 303
    return client, made


def tabs(html: str) -> dict[str, tuple[str, bool]]:
    """Each tab's href → (its text, whether it is the current page)."""
    nav = re.search(r'<nav id="staff-views".*?</nav>', html, re.S).group(0)
    return {href: (" ".join(re.sub(r"<[^>]+>", "", text).split()), "aria-current" in attrs)
            for href, attrs, text in re.findall(r'<a href="([^"]+)"([^>]*)>(.*?)</a>', nav, re.S)}


def cases_listed(html: str) -> list[str]:
    inbox = re.search(r'<section id="staff-inbox".*?</section>', html, re.S).group(0)
    return re.findall(r"<strong>(44-\d{8}-\d{4})", inbox)


def test_the_inbox_opens_on_to_accept_with_a_count_on_every_tab(province):
    client, made = province
    html = client.get("/staff/").get_data(as_text=True)
    assert tabs(html) == {"/staff/?view=accept": ("待受理 (2)", True), "/staff/?view=hand": ("本级在办 (1)", False),
                          "/staff/?view=overdue": ("已超期 (0)", False), "/staff/?view=open": ("全部未办结 (4)", False)}
    assert sorted(cases_listed(html)) == sorted([made["new"], made["new2"]])
    assert 'name="view" value="accept"' in html  # the filters keep to the tab
    english = client.get("/staff/?lang=en").get_data(as_text=True)
    assert [text for text, _ in tabs(english).values()] == ["To accept (2)", "In hand (1)", "Overdue (0)",
                                                           "All open (4)"]


def test_each_tab_lists_its_cases_and_is_marked_current(province):
    client, made = province
    hand = client.get("/staff/?view=hand").get_data(as_text=True)
    assert cases_listed(hand) == [made["in_hand"]] and tabs(hand)["/staff/?view=hand"][1]
    every = client.get("/staff/?view=open").get_data(as_text=True)
    assert sorted(cases_listed(every)) == sorted(made.values()) and "共 4 件" in every
    assert cases_listed(client.get("/staff/?view=overdue").get_data(as_text=True)) == []
    # A link without a view, as before the tabs existed, still means all open cases; a junk view the default.
    assert len(cases_listed(client.get("/staff/?kind=appeal").get_data(as_text=True))) == 4
    assert len(cases_listed(client.get("/staff/?view=%00junk").get_data(as_text=True))) == 2


def test_a_search_looks_beyond_the_tab_and_the_fragment_brings_the_tabs_out_of_band(province):
    client, made = province
    found = client.get(f"/staff/?view=accept&q={made['down']}").get_data(as_text=True)
    assert cases_listed(found) == [made["down"]]  # passed down to the city: not the province's to accept
    assert not any(current for _, current in tabs(found).values())
    fragment = client.get("/staff/?view=hand&kind=appeal", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="staff-inbox"')
    assert 'id="staff-views" class="inbox-views" aria-label="工作台视图" hx-swap-oob="true"' in fragment
    assert tabs(fragment)["/staff/?view=hand"] == ("本级在办 (1)", True)


def test_an_empty_to_accept_says_so(app, make_user):
    client = app.test_client()
    assert login(client, make_user(Role.STAFF, region="4403").phone).status_code == 303
    html = client.get("/staff/").get_data(as_text=True)
    assert "本级工会暂无待受理的诉求。" in html and cases_listed(html) == []
    assert tabs(html)["/staff/?view=accept"] == ("待受理 (0)", True)
