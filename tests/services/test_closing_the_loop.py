"""Closing the loop with the worker: a reply that promises an action by a date, a satisfied rating that keeps the
case open until then, and a worker who writes again after the case closed (reopens once, then a linked request)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.exceptions import InvalidInput, InvalidTransition
from portal.extensions import db
from portal.models import NoticeKind, Rating, Status, Ticket, TicketCount, TicketEvent
from portal.services import sla, stats, supervision, tickets
from tests.factories import NOW, at_once, staff_of, submit

PROMISE = date(2026, 12, 10)  # NOW is 2026-11-20 in Shanghai
ON_THE_DAY = NOW + timedelta(days=20)  # 2026-12-10, 10:00 in Shanghai: the promised day itself
AFTER = NOW + timedelta(days=21)  # 2026-12-11


def _replied(promised_by: date | None = PROMISE, token: str = "form-token-1", **overrides) -> Ticket:
    province = staff_of("44")
    ticket = tickets.take("accept", submit(token, **overrides).ticket, province, NOW)
    return tickets.take("reply", ticket, province, NOW, text="用人单位承诺于12月10日前支付全部工资。",
                        promised_by=promised_by)


def _rated(ticket: Ticket, rating: Rating = Rating.SATISFIED, at=NOW) -> Ticket:
    return tickets.take("rate", ticket, None, at, rating=rating, comment="")


def _closed_after_one_reopening() -> Ticket:
    """A case rated unsatisfied once (reopened), answered again and rated satisfied: closed, reopened once."""
    province = staff_of("44")
    ticket = _rated(_replied(), Rating.UNSATISFIED)
    ticket = tickets.take("reply", tickets.take("accept", ticket, province, NOW), province, NOW, text="再次答复")
    ticket = _rated(ticket)
    assert ticket.status is Status.CLOSED and ticket.reopen_count == 1
    return ticket


def _counts_match() -> bool:
    kept = {(c.handler_code, c.status): c.n for c in db.session.scalars(select(TicketCount)) if c.n}
    counted = {(h, s): n for h, s, n in db.session.execute(
        select(Ticket.handler_code, Ticket.status, func.count()).group_by(Ticket.handler_code, Ticket.status))}
    return kept == counted


# ------------------------------------------------------------------------------------------ the promise

def test_a_satisfied_rating_before_the_promised_date_keeps_the_case_open_until_it_has_passed(ctx):
    ticket = _replied()
    assert ticket.promised_by == PROMISE and tickets.promise_pending(ticket, NOW)
    ticket = _rated(ticket)
    assert ticket.status is Status.AWAITING_PROMISE and ticket.is_open and ticket.open
    assert ticket.rating is Rating.SATISFIED and ticket.closed_at is None
    province = staff_of("44")
    # On the promised day itself the worker may still write, and staff cannot close it yet.
    assert "close" not in tickets.staff_actions(ticket, province, ON_THE_DAY)
    with pytest.raises(InvalidTransition):
        tickets.take("close", ticket, province, ON_THE_DAY)
    assert tickets.worker_actions(ticket, ON_THE_DAY) == ["add_information"]
    assert "close" in tickets.staff_actions(ticket, province, AFTER)
    ticket = tickets.take("close", ticket, province, AFTER)
    assert ticket.status is Status.CLOSED and ticket.closed_at == AFTER and ticket.rating is Rating.SATISFIED
    assert [e.to_status for e in ticket.events[-2:]] == [Status.AWAITING_PROMISE, Status.CLOSED]
    assert _counts_match()


@pytest.mark.parametrize(("at", "rating", "status"), [
    (ON_THE_DAY, Rating.BASICALLY_SATISFIED, Status.AWAITING_PROMISE),  # the date itself is still pending
    (AFTER, Rating.SATISFIED, Status.CLOSED),  # the date has passed: the promise was kept, or they would say
    (NOW, Rating.UNSATISFIED, Status.REOPENED),  # unsatisfied reopens once, as without a promise
])
def test_what_a_rating_does_depends_on_the_promised_date(ctx, at, rating, status):
    ticket = _rated(_replied(), rating, at)
    assert ticket.status is status and ticket.rating is rating
    assert (ticket.closed_at is not None) == (status is Status.CLOSED)


def test_without_a_promise_a_satisfied_rating_closes_as_before(ctx):
    ticket = _rated(_replied(promised_by=None))
    assert ticket.status is Status.CLOSED and ticket.promised_by is None


def test_reopening_drops_the_old_answers_promise(ctx):
    ticket = _rated(_replied(), Rating.UNSATISFIED)
    assert ticket.status is Status.REOPENED and ticket.promised_by is None and ticket.replied_at is None
    province = staff_of("44")
    ticket = tickets.take("reply", tickets.take("accept", ticket, province, NOW), province, NOW, text="再次答复")
    assert _rated(ticket).status is Status.CLOSED


def test_the_union_reopens_a_case_whose_promise_the_worker_says_was_not_kept(ctx):
    ticket = _rated(_replied())
    assert "reopen" in tickets.staff_actions(ticket, staff_of("44"), NOW)
    ticket = tickets.take("reopen", ticket, staff_of("44"), NOW, reason="职工来电：老板说不发了")
    assert ticket.status is Status.REOPENED and ticket.promised_by is None and ticket.closed_at is None


def test_a_return_visit_call_that_finds_the_worker_satisfied_also_waits_for_the_date(ctx):
    ticket = tickets.take("return_visit", _replied(), staff_of("44"), NOW, rating=Rating.SATISFIED,
                          comment="电话回访：工人表示满意，等待发薪")
    assert ticket.status is Status.AWAITING_PROMISE and ticket.closed_at is None


@pytest.mark.parametrize(("promised_by", "accepted"), [
    (date(2026, 11, 20), True),  # today, in Shanghai
    (date(2026, 11, 20) + timedelta(days=90), True),
    (date(2026, 11, 19), False),  # yesterday
    (date(2026, 11, 20) + timedelta(days=91), False),
])
def test_the_promised_date_lies_between_today_and_ninety_days_ahead(ctx, promised_by, accepted):
    if accepted:
        assert _replied(promised_by).promised_by == promised_by
        return
    with pytest.raises(InvalidInput) as refused:
        _replied(promised_by)
    assert set(refused.value.fields) == {"promised_by"}
    ticket = db.session.scalar(select(Ticket))
    assert ticket.status is Status.ACCEPTED and ticket.promised_by is None  # nothing of the reply was kept


def test_the_dashboard_counts_a_case_awaiting_a_promise_as_answered(ctx):
    _rated(_replied())
    assert stats.STATE_OF[Status.AWAITING_PROMISE] == stats.STATE_OF[Status.REPLIED] == "replied"
    cells, day = stats.cells_of(stats.facts(db.session.scalar(select(Ticket)))), date(2026, 11, 20)
    assert cells["status", day, "replied"] == 1 and cells["rating", day, "satisfied"] == 1


def test_an_answered_case_waiting_past_its_reply_deadline_is_not_overdue_nor_supervised(ctx):
    """The deadline is for the answer: a case answered in time and awaiting its promise is not late."""
    ticket = _rated(_replied(promised_by=date(2027, 2, 1)))
    late = ticket.due_at + timedelta(days=30)
    assert ticket.status is Status.AWAITING_PROMISE and tickets.promise_pending(ticket, late)
    assert sla.deadline_flags(ticket, late) == (False, False)
    assert sum(supervision.sweep(late).created.values()) == 0
    unanswered = submit("unanswered").ticket  # beside it, a case still awaiting its answer is supervised
    assert sla.deadline_flags(unanswered, late) == (False, True)
    assert supervision.sweep(late).created[NoticeKind.SUPERVISION] == 1


# ------------------------------------------------------------------------------------ writing again

def test_writing_while_a_promise_is_awaited_reopens_the_case_once(ctx):
    ticket = _rated(_replied())
    assert tickets.what_writing_does(ticket) == "reopens"
    ticket = tickets.take("add_information", ticket, None, NOW + timedelta(days=2), text="老板说不发了。")
    assert ticket.status is Status.REOPENED and ticket.reopen_count == 1 and ticket.promised_by is None
    assert ticket.due_at > NOW + timedelta(days=2) and ticket.replied_at is None
    event = ticket.events[-1]
    assert (event.action, event.from_status, event.to_status) == (
        "reopened_with_information", Status.AWAITING_PROMISE, Status.REOPENED)
    assert event in tickets.worker_timeline(ticket) and event.note == "老板说不发了。"
    assert tickets.what_writing_does(ticket) == "adds"
    assert _counts_match()


def test_writing_after_the_case_closed_reopens_it_once(ctx):
    ticket = _rated(_replied(promised_by=None))
    assert ticket.status is Status.CLOSED and "add_information" in tickets.worker_actions(ticket, NOW)
    ticket = tickets.take("add_information", ticket, None, AFTER, text="工资还是没到账。")
    assert ticket.status is Status.REOPENED and ticket.closed_at is None and ticket.open
    assert ticket.events[-1].action == "reopened_with_information"


def test_writing_again_after_the_one_reopening_starts_a_linked_request_with_the_same_code(ctx):
    receipt = submit(employer="某某劳务公司", contact_name="张三", contact_phone="13912345678", anonymous=False)
    province = staff_of("44")
    old = tickets.take("accept", receipt.ticket, province, NOW)
    old = _rated(tickets.take("reply", old, province, NOW, text="答复"), Rating.UNSATISFIED)
    old = _rated(tickets.take("reply", tickets.take("accept", old, province, NOW), province, NOW, text="再次答复"))
    assert old.status is Status.CLOSED and old.reopen_count == 1
    assert tickets.what_writing_does(old) == "continues"

    old = tickets.take("add_information", old, None, AFTER, text="公司又拖欠了十二月的工资。")
    new = old.follow_up
    assert new is not None and new.follows is old and new.follows_id == old.id
    assert old.status is Status.CLOSED and old.closed_at == NOW  # the old case stays as it was closed
    assert (old.events[-1].action, old.events[-1].note) == ("followed_up", new.number)
    assert new.status is Status.SUBMITTED and new.handler_code == "44" and new.received_at == AFTER
    assert new.description == "公司又拖欠了十二月的工资。" and new.submission_token is None
    assert (new.kind, new.category, new.place_code, new.employer) == (old.kind, old.category, old.place_code,
                                                                        "某某劳务公司")
    assert (new.contact_name, new.contact_phone, new.anonymous) == ("张三", "13912345678", False)
    assert tickets.find_by_code(new.number, receipt.query_code).id == new.id  # the worker's code still works
    # The old request continues once: afterwards the worker writes on the new one.
    assert "add_information" not in tickets.worker_actions(old, AFTER)
    with pytest.raises(InvalidTransition) as refused:
        tickets.take("add_information", old, None, AFTER, text="再补充")
    assert new.number in str(refused.value.message)
    assert _counts_match()


def test_writing_while_a_promise_is_awaited_after_the_one_reopening_closes_it_into_a_new_request(ctx):
    province = staff_of("44")
    ticket = _rated(_replied(), Rating.UNSATISFIED)
    ticket = tickets.take("reply", tickets.take("accept", ticket, province, NOW), province, NOW,
                          text="承诺12月10日前支付", promised_by=PROMISE)
    ticket = _rated(ticket)
    assert ticket.status is Status.AWAITING_PROMISE and ticket.reopen_count == 1
    ticket = tickets.take("add_information", ticket, None, ON_THE_DAY, text="到期了还没发。")
    assert ticket.status is Status.CLOSED and ticket.closed_at == ON_THE_DAY and not ticket.open
    assert ticket.follow_up.status is Status.SUBMITTED and ticket.events[-1].to_status is Status.CLOSED
    assert _counts_match()


@pytest.mark.parametrize("text", ["长" * 4001, "a\x00b"])
def test_a_message_that_could_not_be_a_request_starts_none(ctx, text):
    ticket = _closed_after_one_reopening()
    with pytest.raises(InvalidInput) as refused:
        tickets.take("add_information", ticket, None, AFTER, text=text)
    assert set(refused.value.fields) == {"text"}
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert db.session.get(Ticket, ticket.id).events[-1].action == "rated" and _counts_match()


def test_a_request_is_continued_once_however_many_sends_race(app):
    with app.app_context():
        ticket_id = _closed_after_one_reopening().id
        db.session.remove()
    outcomes = at_once(app, 6, lambda ticket: tickets.take("add_information", ticket, None, AFTER,
                                                                    text="又拖欠了"),
                                 read=lambda: db.session.get(Ticket, ticket_id))
    outcomes = ["refused" if isinstance(o, InvalidTransition) else "ok" if isinstance(o, Ticket) else o
                for o in outcomes]
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.follows_id == ticket_id)) == 1
        assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.action == "followed_up")) == 1
        assert _counts_match()
        db.session.remove()
