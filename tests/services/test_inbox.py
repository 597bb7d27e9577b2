"""The inbox's views (issue 14, item 5): it opens on what waits for the viewer's own union to accept, oldest
deadline first; in hand, overdue and all open beside it, each with a count that matches its list, scoped to the
jurisdiction exactly as the list is."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import Role, Status, Ticket, User
from portal.services import tickets
from portal.services.tickets.inbox import TO_ACCEPT
from tests import factories
from tests.factories import NOW, ticket

S = Status
# (status, days before NOW it was submitted): the earlier the submission, the earlier its deadline.
CASES = {"new_old": (S.SUBMITTED, 6), "new": (S.SUBMITTED, 1), "returned": (S.RETURNED_UP, 3),
         "reopened": (S.REOPENED, 4), "accepted": (S.ACCEPTED, 2), "more_time": (S.EXTENSION_REQUESTED, 5),
         "passed_down": (S.DISPATCHED, 2), "city_in_hand": (S.IN_PROGRESS, 3), "answered": (S.REPLIED, 3),
         "closed": (S.CLOSED, 2)}


@pytest.fixture
def cases(ctx):
    """The cases above, brought to their status by the real workflow, by name → id."""
    return {name: ticket(status, token=f"inbox-{name}", now=NOW - timedelta(days=days)).id
            for name, (status, days) in CASES.items()}


def viewer(region: str | None) -> User:
    """Staff of `region` (made in this test's session, which may be reading already), or an administrator."""
    return factories.user(Role.ADMIN) if region is None else factories.staff_of(region)


def listed(user: User, view: str, **query) -> tickets.InboxPage:
    return tickets.inbox(user, tickets.InboxQuery(view=view, **query), NOW)


def by_deadline(ids: set[int]) -> list[int]:
    due = {t.id: (t.due_at, t.id) for t in db.session.scalars(db.select(Ticket).where(Ticket.id.in_(ids)))}
    return sorted(ids, key=due.__getitem__)


def test_to_accept_holds_the_new_passed_back_and_reopened_cases_of_the_own_union_oldest_deadline_first(cases):
    province = viewer("44")
    page = listed(province, "accept")
    expected = {cases[n] for n in ("new_old", "new", "returned", "reopened")}
    assert [i.id for i in page.items] == by_deadline(expected)
    assert page.items[0].id == cases["new_old"]  # submitted first, due first
    assert {i.status for i in page.items} <= TO_ACCEPT and page.view == "accept"

    city = viewer("4401")  # passed down to the city: the city's to accept, no longer the province's
    assert [i.id for i in listed(city, "accept").items] == [cases["passed_down"]]


def test_in_hand_all_open_and_overdue(cases):
    province, city = viewer("44"), viewer("4401")
    assert {i.id for i in listed(province, "hand").items} == {cases["accepted"], cases["more_time"], cases["answered"]}
    assert [i.id for i in listed(city, "hand").items] == [cases["city_in_hand"]]
    every_open = {cases[n] for n in CASES if n != "closed"}
    assert [i.id for i in listed(province, "open").items] == by_deadline(every_open)
    assert {i.id for i in listed(city, "open").items} == {cases["passed_down"], cases["city_in_hand"]}

    assert listed(province, "overdue").items == []
    db.session.execute(update(Ticket).where(Ticket.id.in_([cases["new"], cases["city_in_hand"], cases["answered"]]))
                       .values(due_at=NOW - timedelta(hours=1)))
    db.session.commit()
    # Answered in time or not, an answered case is no longer overdue: it waits for its rating.
    assert {i.id for i in listed(province, "overdue").items} == {cases["new"], cases["city_in_hand"]}
    assert [i.id for i in listed(city, "overdue").items] == [cases["city_in_hand"]]  # jurisdiction-scoped


@pytest.mark.parametrize("region", ["44", "4401", "440106", "4403", None])
def test_each_view_s_count_is_the_length_of_its_list(cases, region):
    db.session.execute(update(Ticket).where(Ticket.id == cases["city_in_hand"]).values(due_at=NOW - timedelta(1)))
    db.session.commit()
    user = viewer(region)
    counts = tickets.view_counts(user, NOW)
    assert list(counts) == list(tickets.VIEWS)
    for view in tickets.VIEWS:
        page = listed(user, view)
        assert counts[view] == len(page.items) == page.total, (view, counts)
        assert page.views == counts
    expected = {"44": {"accept": 4, "hand": 3, "overdue": 1, "open": 9}, "4401": {"accept": 1, "hand": 1,
                "overdue": 1, "open": 2}, "440106": dict.fromkeys(tickets.VIEWS, 0),
                "4403": dict.fromkeys(tickets.VIEWS, 0), None: {"accept": 4, "hand": 3, "overdue": 1, "open": 9}}
    assert counts == expected[region]


def test_a_status_filter_or_a_search_sets_the_view_aside(cases):
    province = viewer("44")
    closed = listed(province, "accept", status="closed")
    assert [i.id for i in closed.items] == [cases["closed"]] and closed.view == ""
    found = listed(province, "accept", search=db.session.get(Ticket, cases["accepted"]).number)
    assert [i.id for i in found.items] == [cases["accepted"]] and found.view == ""
    # Other filters narrow the view: appeals only, to accept.
    assert listed(province, "accept", kind="consultation").items == []
    assert listed(province, "accept", level="below").total == 0


def test_a_member_or_cashier_sees_no_view(ctx):
    member = factories.user(Role.MEMBER)
    assert tickets.view_counts(member, NOW) == dict.fromkeys(tickets.VIEWS, 0)
    assert listed(member, "accept").items == []


def test_overdue_is_counted_up_to_a_limit_and_then_shown_as_more(cases, monkeypatch):
    """A province may have tens of thousands of overdue cases: counting them stops after OVERDUE_SHOWN + 1
    (0.2 s → 1 ms at a million tickets), the tab says "99+" and the list pages on without a last page."""
    # The module, not the function of the same name that portal.services.tickets re-exports.
    monkeypatch.setattr(import_module("portal.services.tickets.inbox"), "OVERDUE_SHOWN", 1)
    db.session.execute(update(Ticket).where(Ticket.id.in_([cases["new"], cases["new_old"], cases["accepted"]]))
                       .values(due_at=NOW - timedelta(hours=1)))
    db.session.commit()
    page = listed(viewer("44"), "overdue")
    assert page.views["overdue"] == 2 and page.shown_count("overdue") == "1+" and page.total is None
    assert {i.id for i in page.items} == {cases["new"], cases["new_old"], cases["accepted"]}
    assert page.shown_count("accept") == "4"
