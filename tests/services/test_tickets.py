"""The ticket workflow, called directly with fixed times."""

from __future__ import annotations

import random
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from portal.exceptions import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.extensions import db
from portal.models import Channel, Kind, Rating, Region, Role, Status, Ticket, TicketCount, TicketEvent, User
from portal.services import regions, sla, tickets
from tests.factories import NOW, at_once, submit, wages

CHAIN = {"province": "44", "city": "4401", "district": "440106", "town": "440106006",
         "other_city": "4403", "other_district": "440104"}


@pytest.fixture
def staff(ctx, make_user):
    """A staff member at each level of the demo chain and beside it, as live User rows."""
    ids = {level: make_user(Role.STAFF, region=code).id for level, code in CHAIN.items()}
    ids["admin"] = make_user(Role.ADMIN).id
    ids["member"] = make_user(Role.MEMBER).id
    return {level: db.session.get(User, user_id) for level, user_id in ids.items()}


# ----------------------------------------------------------------------------------------- submission

def test_a_submission_lands_at_the_root_union_with_a_number_a_code_and_a_deadline(ctx):
    receipt = submit()
    ticket = receipt.ticket
    assert receipt.created and ticket.number == "44-20261120-0001"
    assert submit(token="form-token-2").ticket.number == "44-20261120-0002"
    assert ticket.status is Status.SUBMITTED and ticket.handler_code == "44"
    assert sla.local_date(ticket.due_at - timedelta(microseconds=1)) == date(2026, 12, 18)  # 20 working days
    assert ticket.period_days == 20 and not ticket.due_provisional
    assert [e.action for e in ticket.events] == ["submitted"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", receipt.query_code)


def test_the_query_code_is_stored_only_as_a_hash(ctx):
    receipt = submit()
    code = receipt.query_code.replace("-", "")
    for table in ("ticket", "ticket_event"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 — fixed names
        assert code not in repr(rows) and receipt.query_code not in repr(rows)


def test_numbers_restart_each_shanghai_day(ctx):
    submit(token="a")
    tomorrow = submit(token="b", now=NOW + timedelta(days=1)).ticket
    assert tomorrow.number == "44-20261121-0001"


def test_the_same_form_token_gives_back_the_same_ticket_and_code(ctx):
    first = submit()
    again = submit(description="a different text typed after a lost response")
    assert not again.created and again.ticket.id == first.ticket.id and again.query_code == first.query_code
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_concurrent_submissions_with_one_token_make_one_ticket(app):
    receipts, errors = [], []

    def worker():
        try:
            with app.app_context():
                receipts.append(tickets.submit(wages(), token="one-form", now=NOW).ticket.id)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(receipts) == 10 and len(set(receipts)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


@pytest.mark.parametrize(("overrides", "field"), [
    ({"category": "labour.nothing"}, "category"),
    ({"description": "   "}, "description"),
    ({"description": "字" * 4001}, "description"),
    ({"description": "nul\x00byte"}, "description"),
    ({"place_code": "4403999"}, "place"),
    ({"place_code": "110101"}, "place"),  # Beijing: outside the configured tree
    ({"amount_owed_fen": -1}, "amount_owed"),
    ({"amount_owed_fen": 10**13}, "amount_owed"),
    ({"workers_affected": 0}, "workers_affected"),
    ({"lat": float("nan"), "lng": 113.3}, "location"),
    ({"lat": 91.0, "lng": 113.3}, "location"),
    ({"lat": 23.1, "lng": float("inf")}, "location"),
    ({"lat": 23.1}, "location"),
    ({"anonymous": False, "contact_phone": "12345"}, "contact_phone"),
])
def test_bad_submissions_are_refused_and_nothing_is_stored(ctx, overrides, field):
    with pytest.raises(InvalidInput) as error:
        submit(**overrides)
    assert field in error.value.fields
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_anonymous_submissions_keep_no_contact_details(ctx):
    ticket = submit(anonymous=True, contact_name="王五", contact_phone="13800000000").ticket
    assert ticket.contact_name == "" and ticket.contact_phone == ""
    named = submit(token="t2", anonymous=False, contact_name="王五", contact_phone="+86 138 0000 0000").ticket
    assert named.contact_name == "王五" and named.contact_phone == "13800000000"


def test_deadlines_follow_the_kind_and_urgency(ctx):
    assert submit(token="c", kind=Kind.CONSULTATION).ticket.period_days == 5
    urgent = submit(token="u", urgent=True).ticket
    assert urgent.period_days == 0 and sla.local_date(urgent.due_at - timedelta(microseconds=1)) == date(2026, 11, 20)
    late = submit(token="late", now=datetime(2026, 12, 28, 2, tzinfo=UTC)).ticket
    assert late.due_provisional  # runs into 2027, beyond the published holidays


def test_find_by_code_is_forgiving_about_typing_and_strict_about_the_code(ctx):
    receipt = submit()
    number, code = receipt.ticket.number, receipt.query_code
    assert tickets.find_by_code(number, code.lower().replace("-", " ")).id == receipt.ticket.id
    fuzzy = code.replace("0", "O").replace("1", "l")
    assert tickets.find_by_code(number, fuzzy).id == receipt.ticket.id
    messages = set()
    for n, c in [(number, "0000-0000-0000-0000"), ("44-20261120-9999", code), (number, ""), ("", code),
                 (number, "x" * 10_000)]:
        with pytest.raises(NotFound) as error:
            tickets.find_by_code(n, c)
        messages.add(str(error.value))
    assert len(messages) == 1


# ------------------------------------------------------------------------------------------- workflow

def test_the_case_goes_down_level_by_level_and_the_worker_closes_the_loop(ctx, staff):
    ticket = submit().ticket
    ticket = tickets.take("accept", ticket, staff["province"], NOW)
    assert ticket.status is Status.ACCEPTED
    for upper, lower in [("province", "city"), ("city", "district"), ("district", "town")]:
        ticket = tickets.take("dispatch", ticket, staff[upper], NOW, target=CHAIN[lower], note="请核实处理")
        assert ticket.status is Status.DISPATCHED and ticket.handler_code == CHAIN[lower]
        ticket = tickets.take("accept", ticket, staff[lower], NOW)
        assert ticket.status is Status.IN_PROGRESS
    ticket = tickets.take("reply", ticket, staff["town"], NOW, text="已联系企业，工资将于本周五前发放。",
                          recovered_fen=1_200_000)
    assert ticket.status is Status.REPLIED and ticket.amount_recovered_fen == 1_200_000
    ticket = tickets.take("rate", ticket, None, NOW, rating=Rating.SATISFIED, comment="谢谢")
    assert ticket.status is Status.CLOSED and ticket.closed_at == NOW and ticket.rating is Rating.SATISFIED
    events = ticket.events
    assert [e.action for e in events] == ["submitted", "accepted", "dispatched", "accepted", "dispatched",
                                          "accepted", "dispatched", "accepted", "replied", "rated"]
    assert all(e.from_status == p.to_status for p, e in zip(events, events[1:], strict=False) if e.to_status)
    assert [e.public for e in events if e.action == "dispatched"] == [False] * 3


def test_a_union_returns_a_case_that_is_not_its_own(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    ticket = tickets.take("dispatch", ticket, staff["province"], NOW, target="4401", note="")
    with pytest.raises(InvalidInput):
        tickets.take("return_up", ticket, staff["city"], NOW, reason="  ")
    ticket = tickets.take("return_up", ticket, staff["city"], NOW, reason="用人单位注册地在深圳，请转深圳市总工会")
    assert ticket.status is Status.RETURNED_UP and ticket.handler_code == "44"
    ticket = tickets.take("dispatch", ticket, staff["province"], NOW, target="4403", note="")
    assert ticket.handler_code == "4403"


def test_a_lower_union_reports_up_and_the_upper_one_replies(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    ticket = tickets.take("accept", tickets.take("dispatch", ticket, staff["province"], NOW, target="4401",
                                                 note=""), staff["city"], NOW)
    ticket = tickets.take("report_up", ticket, staff["city"], NOW, result="已督促企业整改")
    assert ticket.status is Status.IN_PROGRESS and ticket.handler_code == "44"
    assert tickets.take("reply", ticket, staff["province"], NOW, text="已处理").status is Status.REPLIED


def test_the_root_union_cannot_return_or_report_up(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    with pytest.raises(InvalidTransition):
        tickets.take("report_up", ticket, staff["province"], NOW, result="x")


def test_dispatch_goes_one_level_down_only(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    for target in ("440106", "440106006", "44", "110101", "nope"):
        with pytest.raises(InvalidInput):
            tickets.take("dispatch", ticket, staff["province"], NOW, target=target, note="")


def test_accept_and_pass_down_is_one_step_with_both_in_the_history_or_nothing(ctx, staff):
    ticket = submit().ticket
    assert "accept_and_dispatch" in tickets.staff_actions(ticket, staff["province"], NOW)
    for target in ("440106", "44", "nope"):  # not directly below: nothing changes, not even the acceptance
        with pytest.raises(InvalidInput):
            tickets.take("accept_and_dispatch", ticket, staff["province"], NOW, target=target, note="")
        db.session.refresh(ticket)
        assert ticket.status is Status.SUBMITTED and ticket.handler_code == "44"
    ticket = tickets.take("accept_and_dispatch", ticket, staff["province"], NOW, target="4401", note="请核实")
    assert ticket.status is Status.DISPATCHED and ticket.handler_code == "4401"
    events = db.session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)).all()
    assert events[-2:] == ["accepted", "dispatched"]
    counts = dict(db.session.execute(select(TicketCount.handler_code, func.sum(TicketCount.n))
                                     .group_by(TicketCount.handler_code)).all())
    assert counts.get("44", 0) == 0 and counts["4401"] == 1
    with pytest.raises(PermissionDenied):  # the city's now: the province no longer takes it
        tickets.take("accept_and_dispatch", ticket, staff["province"], NOW, target="4401", note="")
    town = tickets.take("accept", tickets.take("accept_and_dispatch", tickets.take(
        "accept_and_dispatch", ticket, staff["city"], NOW, target="440106", note=""), staff["district"], NOW,
        target="440106006", note=""), staff["town"], NOW)
    assert "accept_and_dispatch" not in tickets.staff_actions(town, staff["town"], NOW)  # nobody below a town


def test_an_extension_is_decided_by_the_level_above(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    ticket = tickets.take("accept", tickets.take("dispatch", ticket, staff["province"], NOW, target="4401",
                                                 note=""), staff["city"], NOW)
    for days in (20, 31):
        with pytest.raises(InvalidInput):
            tickets.take("request_extension", ticket, staff["city"], NOW, days=days, reason="需要调查")
    ticket = tickets.take("request_extension", ticket, staff["city"], NOW, days=30, reason="需要调取考勤记录")
    assert ticket.status is Status.EXTENSION_REQUESTED
    with pytest.raises(PermissionDenied):
        tickets.take("decide_extension", ticket, staff["city"], NOW, approve=True, note="")
    ticket = tickets.take("decide_extension", ticket, staff["province"], NOW, approve=True, note="同意")
    assert ticket.status is Status.IN_PROGRESS and ticket.period_days == 30
    # 30 working days from Fri Nov 20 end on Fri Jan 1, 2027, counted Monday–Friday (not yet published).
    assert sla.local_date(ticket.due_at - timedelta(microseconds=1)) == date(2027, 1, 1)
    assert ticket.due_provisional


def test_a_denied_extension_keeps_the_deadline(ctx, staff):
    ticket = tickets.take("accept", submit().ticket, staff["province"], NOW)
    due = ticket.due_at
    ticket = tickets.take("request_extension", ticket, staff["province"], NOW, days=25, reason="需要调查")
    ticket = tickets.take("decide_extension", ticket, staff["province"], NOW, approve=False, note="请按期办结")
    assert ticket.status is Status.ACCEPTED and ticket.due_at == due and ticket.period_days == 20


def test_unsatisfied_reopens_once_then_closes_with_the_rating_kept(ctx, staff):
    ticket = tickets.take("reply", tickets.take("accept", submit().ticket, staff["province"],
                                                NOW), staff["province"], NOW, text="答复")
    ticket = tickets.take("rate", ticket, None, NOW, rating=Rating.UNSATISFIED, comment="没有解决")
    assert ticket.status is Status.REOPENED and ticket.reopen_count == 1 and ticket.handler_code == "44"
    ticket = tickets.take("reply", tickets.take("accept", ticket, staff["province"],
                                                NOW), staff["province"], NOW, text="再次答复")
    ticket = tickets.take("rate", ticket, None, NOW, rating=Rating.UNSATISFIED, comment="还是不满意")
    assert ticket.status is Status.CLOSED and ticket.rating is Rating.UNSATISFIED


def test_staff_record_a_return_visit_and_then_close(ctx, staff):
    ticket = tickets.take("reply", tickets.take("accept", submit().ticket, staff["province"],
                                                NOW), staff["province"], NOW, text="答复")
    ticket = tickets.take("return_visit", ticket, staff["province"], NOW, rating=Rating.BASICALLY_SATISFIED,
                          comment="电话回访")
    assert ticket.status is Status.RETURN_VISIT and ticket.closed_at is None
    assert tickets.take("close", ticket, staff["province"], NOW).status is Status.CLOSED


def test_closing_records_wages_recovered_and_the_union_reopens_once(ctx, staff):
    ticket = tickets.take("reply", tickets.take("accept", submit().ticket, staff["province"],
                                                NOW), staff["province"], NOW, text="答复")
    ticket = tickets.take("return_visit", ticket, staff["province"], NOW, rating=Rating.SATISFIED, comment="")
    ticket = tickets.take("close", ticket, staff["province"], NOW, recovered_fen=1_150_000)
    assert ticket.status is Status.CLOSED and ticket.amount_recovered_fen == 1_150_000
    with pytest.raises(InvalidInput):
        tickets.take("reopen", ticket, staff["province"], NOW, reason=" ")
    ticket = tickets.take("reopen", ticket, staff["province"], NOW + timedelta(days=3), reason="职工来电：工资仍未到账")
    assert ticket.status is Status.REOPENED and ticket.closed_at is None and ticket.due_at > NOW + timedelta(days=3)
    assert "reopened" in [e.action for e in tickets.worker_timeline(ticket)]
    ticket = tickets.take("reply", tickets.take("accept", ticket, staff["province"],
                                                NOW), staff["province"], NOW, text="再次答复")
    ticket = tickets.take("rate", ticket, None, NOW, rating=Rating.SATISFIED, comment="")
    with pytest.raises(InvalidTransition):
        tickets.take("reopen", ticket, staff["province"], NOW, reason="again")


def test_the_worker_withdraws_only_before_acceptance_and_adds_information_while_open(ctx, staff):
    first = tickets.take("withdraw", submit().ticket, None, NOW, reason="已自行解决")
    assert first.status is Status.WITHDRAWN
    with pytest.raises(InvalidTransition):
        tickets.take("add_information", first, None, NOW, text="more")
    second = tickets.take("accept", submit(token="t2").ticket, staff["province"], NOW)
    with pytest.raises(InvalidTransition):
        tickets.take("withdraw", second, None, NOW, reason="")
    second = tickets.take("add_information", second, None, NOW, text="补充：公司已搬迁到新地址。")
    assert second.status is Status.ACCEPTED and second.events[-1].action == "information_added"


def test_duplicates_are_merged_into_a_visible_open_case(ctx, staff):
    keep, duplicate = submit().ticket, submit(token="t2").ticket
    with pytest.raises(InvalidInput):
        tickets.take("merge", duplicate, staff["province"], NOW, into=duplicate.number)
    merged = tickets.take("merge", duplicate, staff["province"], NOW, into=keep.number)
    assert merged.status is Status.MERGED and merged.merged_into_id == keep.id


# ------------------------------------------------------------------------------------ the full matrix

ALLOWED = {  # restated from the rules, independently of the service's own tables
    "accept": {Status.SUBMITTED, Status.DISPATCHED, Status.RETURNED_UP, Status.REOPENED},
    "dispatch": {Status.ACCEPTED, Status.IN_PROGRESS, Status.RETURNED_UP},
    "return_up": {Status.DISPATCHED, Status.IN_PROGRESS},
    "report_up": {Status.IN_PROGRESS},
    "reply": {Status.ACCEPTED, Status.IN_PROGRESS},
    "request_extension": {Status.ACCEPTED, Status.IN_PROGRESS},
    "decide_extension": {Status.EXTENSION_REQUESTED},
    "rate": {Status.REPLIED},
    "record_return_visit": {Status.REPLIED},
    "close": {Status.RETURN_VISIT, Status.AWAITING_PROMISE},
    "reopen": {Status.CLOSED, Status.AWAITING_PROMISE},
    "withdraw": {Status.SUBMITTED},
    "add_information": set(Status) - {Status.WITHDRAWN, Status.MERGED},  # after closing: reopens or continues
    "merge": set(Status) - {Status.CLOSED, Status.WITHDRAWN, Status.MERGED},
}


def _run(action, ticket, staff, other_number):
    district, city = staff["district"], staff["city"]
    return {
        "accept": lambda: tickets.take("accept", ticket, district, NOW),
        "dispatch": lambda: tickets.take("dispatch", ticket, district, NOW, target="440106006", note=""),
        "return_up": lambda: tickets.take("return_up", ticket, district, NOW, reason="不属本级"),
        "report_up": lambda: tickets.take("report_up", ticket, district, NOW, result="结果"),
        "reply": lambda: tickets.take("reply", ticket, district, NOW, text="答复"),
        "request_extension": lambda: tickets.take("request_extension", ticket, district, NOW, days=30, reason="调查"),
        "decide_extension": lambda: tickets.take("decide_extension", ticket, city, NOW, approve=True, note=""),
        "rate": lambda: tickets.take("rate", ticket, None, NOW, rating=Rating.SATISFIED, comment=""),
        "record_return_visit": lambda: tickets.take("return_visit", ticket, district, NOW, rating=Rating.SATISFIED,
                                                    comment=""),
        "close": lambda: tickets.take("close", ticket, district, NOW),
        "reopen": lambda: tickets.take("reopen", ticket, district, NOW, reason="职工来电反映问题未解决"),
        "withdraw": lambda: tickets.take("withdraw", ticket, None, NOW, reason=""),
        "add_information": lambda: tickets.take("add_information", ticket, None, NOW, text="补充"),
        "merge": lambda: tickets.take("merge", ticket, district, NOW, into=other_number),
    }[action]()


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_every_action_is_allowed_exactly_from_its_statuses(ctx, staff, action):
    other = submit(token="other").ticket
    db.session.execute(update(Ticket).where(Ticket.id == other.id).values(handler_code="440106"))
    db.session.commit()
    for n, status in enumerate(Status):
        ticket = submit(token=f"{action}-{n}").ticket
        db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status=status, handler_code="440106"))
        if status is Status.EXTENSION_REQUESTED:
            db.session.add(TicketEvent(ticket_id=ticket.id, at=NOW, action="extension_requested",
                                       from_status=Status.IN_PROGRESS, to_status=status, actor_kind="staff",
                                       note="30: 调查"))
        db.session.commit()
        db.session.refresh(ticket)
        if status in ALLOWED[action]:
            assert _run(action, ticket, staff, other.number).events[-1].from_status is status, (action, status)
        else:
            with pytest.raises(InvalidTransition):
                _run(action, ticket, staff, other.number)


# ----------------------------------------------------------------------------------- who may do what

def test_staff_see_their_jurisdiction_and_below_nothing_beside_or_above(ctx, staff):
    ticket = submit().ticket
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(handler_code="440106"))
    db.session.commit()
    for level in ("province", "city", "district", "admin"):
        assert tickets.get_for_staff(ticket.id, staff[level]).id == ticket.id
    for level in ("town", "other_city", "other_district", "member"):
        with pytest.raises(NotFound):
            tickets.get_for_staff(ticket.id, staff[level])


def test_only_the_handling_union_acts(ctx, staff):
    ticket = submit().ticket
    for level in ("city", "district", "admin", "member"):
        with pytest.raises(PermissionDenied):
            tickets.take("accept", ticket, staff[level], NOW)
    assert db.session.get(Ticket, ticket.id).status is Status.SUBMITTED


def test_simultaneous_actions_on_one_ticket_succeed_once(app, staff):
    ticket_id, staff_id = submit().ticket.id, staff["province"].id
    db.session.commit()
    # each request has read the ticket; now they all press "accept" at once
    outcomes = at_once(app, 8, lambda read: tickets.take("accept", *read, NOW),
                                 read=lambda: (db.session.get(Ticket, ticket_id), db.session.get(User, staff_id)))
    outcomes = ["refused" if isinstance(o, InvalidTransition) else "ok" if isinstance(o, Ticket) else o
                for o in outcomes]
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    events = db.session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id)).all()
    assert events == ["submitted", "accepted"]


def test_channels_are_recorded(ctx):
    assert submit(channel=Channel.QR).ticket.channel is Channel.QR
    assert db.session.get(Region, submit(token="x").ticket.place_code).name == "石牌街道"


def _counts() -> dict:
    return {(h, st): n for h, st, n in db.session.execute(select(TicketCount.handler_code, TicketCount.status,
                                                                 TicketCount.n)) if n}


def test_counts_kept_with_every_change_equal_a_full_recount(ctx, staff):
    """Random walks through the workflow; the maintained counts must equal counting the tickets."""
    rng = random.Random(7)
    actions = {
        "accept": lambda t, u: tickets.take("accept", t, u, NOW),
        "dispatch": lambda t, u: tickets.take("dispatch", t, u, NOW,
                                              target=rng.choice(regions.children(t.handler_code)).code, note=""),
        "return_up": lambda t, u: tickets.take("return_up", t, u, NOW, reason="不属本级"),
        "report_up": lambda t, u: tickets.take("report_up", t, u, NOW, result="结果"),
        "reply": lambda t, u: tickets.take("reply", t, u, NOW, text="答复"),
        "rate": lambda t, u: tickets.take("rate", t, None, NOW, rating=rng.choice(list(Rating)), comment=""),
        "withdraw": lambda t, u: tickets.take("withdraw", t, None, NOW, reason=""),
    }
    handlers = {u.region_code: u for u in staff.values() if u.role is Role.STAFF}
    for n in range(12):
        ticket = submit(token=f"walk-{n}").ticket
        for _ in range(10):
            name = rng.choice(sorted(actions))
            user = handlers.get(ticket.handler_code)
            if user is None or (name == "dispatch" and not regions.children(ticket.handler_code)):
                continue
            try:
                ticket = actions[name](ticket, user)
            except (InvalidTransition, PermissionDenied):
                db.session.rollback()
                ticket = db.session.get(Ticket, ticket.id)
    kept = _counts()
    tickets.recount()
    assert kept == _counts() and sum(kept.values()) == 12
