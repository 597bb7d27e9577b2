"""Hostile values in the staff actions, the inbox search and the look-up: a 4xx, never a 500, on SQLite and
PostgreSQL (which refuses NUL bytes in text); a NUL byte is refused beside its field by the form base class and
changes nothing."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Role, TicketEvent
from tests import factories
from tests.conftest import csrf_token, login

BAD = ["\x00", "a\x00b", "9" * 20, "²", "١", "0001-01-01", "9999-12-31"]


@pytest.mark.parametrize("value", BAD)
def test_hostile_staff_and_worker_inputs(app, client, make_user, value):
    staff = make_user(Role.STAFF, "44")
    with app.app_context():
        t = factories.ticket()
        tid = t.id
    login(client, staff.phone)
    token = csrf_token(client, f"/staff/tickets/{tid}")
    codes = []
    for action, field in [("accept", "note"), ("merge", "into"), ("dispatch", "target"), ("reply", "note"),
                          ("reply", "recovered"), ("request_extension", "days"), ("return_visit", "rating"),
                          ("decide_extension", "approve")]:
        r = client.post(f"/staff/tickets/{tid}/{action}", data={"csrf_token": token, field: value})
        codes.append((action, field, r.status_code))
    codes.append(("inbox", client.get("/staff/", query_string={"q": value}).status_code))
    r = client.post("/track/", data={"csrf_token": token, "number": value, "code": value})
    codes.append(("track", "number", r.status_code))
    assert all(c[-1] < 500 for c in codes), codes
    if "\x00" in value:
        assert dict(((c[0], c[1]), c[2]) for c in codes if len(c) == 3)[("merge", "into")] == 422
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(TicketEvent)
                                     .where(TicketEvent.ticket_id == tid, TicketEvent.action == "merged")) == 0
