"""Supervision notices: earned by the working-day calendar, recorded once, addressed to the level above."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Notice, NoticeKind, Status, Ticket, User
from portal.services import sla, supervision, tickets
from tests.conftest import login
from tests.factories import NOW, wages


def shanghai(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=sla.SHANGHAI).astimezone(UTC)


RECEIVED = shanghai(2026, 9, 30)  # a consultation: due end of Tue Oct 13 (National Day in between)


def consultation(token="t", handler="44", now=RECEIVED) -> Ticket:
    ticket = tickets.submit(wages(kind="consultation"), token=token, now=now).ticket
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(handler_code=handler))
    db.session.commit()
    return db.session.get(Ticket, ticket.id)


@pytest.mark.parametrize(("now", "earned"), [
    (shanghai(2026, 10, 9), []),                                         # three working days left
    (shanghai(2026, 10, 12), [NoticeKind.REMINDER]),                      # one left
    (shanghai(2026, 10, 13, 23), [NoticeKind.REMINDER]),                  # the last day
    (shanghai(2026, 10, 14, 0), [NoticeKind.SUPERVISION]),                # the day after
    (shanghai(2026, 10, 19), [NoticeKind.SUPERVISION]),                   # four working days late
    (shanghai(2026, 10, 20), [NoticeKind.SUPERVISION, NoticeKind.PUBLIC]),  # five working days late
])
def test_notices_follow_the_working_day_calendar(ctx, now, earned):
    assert supervision.notices_due(consultation(), now) == earned


def test_the_sweep_records_each_notice_once_for_the_level_above(ctx):
    consultation(token="district", handler="440106")
    consultation(token="root", handler="44")
    late = shanghai(2026, 10, 21)
    first = supervision.sweep(late)
    assert first.created == {NoticeKind.REMINDER: 0, NoticeKind.SUPERVISION: 2, NoticeKind.PUBLIC: 2}
    assert supervision.sweep(late).created == dict.fromkeys(NoticeKind, 0)
    addressed = db.session.execute(select(Ticket.handler_code, Notice.region_code).join(Notice.ticket)).all()
    assert set(addressed) == {("440106", "4401"), ("44", "44")}


def test_concurrent_sweeps_do_not_duplicate(app, ctx):
    consultation()
    db.session.commit()
    errors = []

    def run():
        try:
            with app.app_context():
                supervision.sweep(shanghai(2026, 10, 21))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — asserted below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 2


def test_closed_tickets_and_far_deadlines_earn_nothing(ctx):
    ticket = consultation()
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status=Status.CLOSED))
    db.session.commit()
    consultation(token="fresh", now=shanghai(2026, 11, 20))
    assert supervision.sweep(shanghai(2026, 11, 20)).created == dict.fromkeys(NoticeKind, 0)


def test_an_extended_deadline_earns_its_own_notices(ctx):
    ticket = consultation()
    supervision.sweep(shanghai(2026, 10, 14))
    due = sla.deadline(ticket.received_at, 20)
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(due_at=due.due_at, period_days=20))
    db.session.commit()
    result = supervision.sweep(due.due_at)
    assert result.created[NoticeKind.SUPERVISION] == 1


def test_the_cli_sweeps(app, runner):
    with app.app_context():
        consultation(now=shanghai(2020, 1, 6))  # long overdue by today
        db.session.remove()
    result = runner.invoke(args=["tickets", "sweep"])
    assert result.exit_code == 0 and "1 supervision, 1 public" in result.output
    assert "0 supervision, 0 public" in runner.invoke(args=["tickets", "sweep"]).output


def test_the_supervising_union_sees_its_notices(app, make_user):
    with app.app_context():
        consultation(handler="440106", now=shanghai(2020, 1, 6))
        supervision.sweep(NOW)
        db.session.remove()
    city, district = app.test_client(), app.test_client()
    login(city, make_user("staff", region="4401").phone)
    login(district, make_user("staff", region="440106").phone)
    # Supervision and the public notice, earned in one sweep: the case's line shows the latest, the public notice
    assert "通报：超期五个工作日" in city.get("/staff/").get_data(as_text=True)
    assert "通报：超期五个工作日" not in district.get("/staff/").get_data(as_text=True)


def test_the_supervising_union_sees_one_line_a_case_with_its_latest_notice(app, make_user):
    """A case swept on and on (a reminder, supervision, the public notice) is one line with its latest notice and
    how many there are, not a row for each (issue 14, item 5)."""
    city = make_user("staff", region="4401")
    with app.app_context():
        first = consultation(token="a", handler="440106").id
        second = consultation(token="b", handler="440106", now=shanghai(2026, 10, 12)).id
        for moment in (shanghai(2026, 10, 12), shanghai(2026, 10, 14, 0), shanghai(2026, 10, 20)):
            supervision.sweep(moment)
        lines = supervision.for_union(db.session.get(User, city.id))
        db.session.remove()
    assert [(line.ticket_id, line.kind, line.count) for line in lines] == [  # the newest notice first
        (second, NoticeKind.SUPERVISION, 1), (first, NoticeKind.PUBLIC, 3)]
    client = app.test_client()
    login(client, city.phone)
    page = client.get("/staff/").get_data(as_text=True)
    notices = page[page.index('id="notices-title"'):page.index("</section>", page.index('id="notices-title"'))]
    assert notices.count("<li>") == 2 and "共 3 条通知" in notices
