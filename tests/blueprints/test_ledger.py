"""The contact ledger: staff log calls, visits and letters; some become tickets."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.exceptions import InvalidInput, PermissionDenied
from portal.extensions import db
from portal.models import Channel, Kind, LedgerEntry, Role, Ticket, User
from portal.services import ledger, tickets
from tests.conftest import NOW, login


def contact(**overrides) -> ledger.Contact:
    values = dict(channel=Channel.HOTLINE, kind=Kind.CONSULTATION, category="labour.hours",
                  summary="来电咨询加班费怎么算。", answer="按劳动法规定，工作日延长工作时间支付不低于 150% 的工资。")
    return ledger.Contact(**(values | overrides))


@pytest.fixture
def staff(ctx, make_user):
    return db.session.get(User, make_user(Role.STAFF, region="440106").id)


def test_a_call_answered_on_the_spot_is_logged_once(ctx, staff):
    first = ledger.log(staff, contact(), "form-1", NOW)
    again = ledger.log(staff, contact(), "form-1", NOW)
    assert first.receipt is None and again.entry.id == first.entry.id
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_call_that_needs_handling_becomes_a_ticket_with_its_channel(ctx, staff):
    logged = ledger.log(staff, contact(kind=Kind.APPEAL, category="labour.wages", summary="工资被拖欠两个月",
                                       answer="", to_ticket=True, place_code="440106006", caller_phone="13800000000"),
                        "form-2", NOW)
    ticket = logged.receipt.ticket
    assert ticket.channel is Channel.HOTLINE and not ticket.anonymous and logged.entry.ticket_id == ticket.id
    assert tickets.find_by_code(ticket.number, logged.receipt.query_code).id == ticket.id
    again = ledger.log(staff, contact(to_ticket=True, place_code="440106006"), "form-2", NOW)
    assert again.receipt.query_code == logged.receipt.query_code  # a double click shows the same code


@pytest.mark.parametrize(("overrides", "field"), [
    ({"channel": Channel.WEB}, "channel"), ({"category": "nope"}, "category"), ({"summary": " "}, "summary"),
    ({"answer": ""}, "answer"),
])
def test_bad_entries_are_refused(ctx, staff, overrides, field):
    with pytest.raises(InvalidInput) as error:
        ledger.log(staff, contact(**overrides), "form-3", NOW)
    assert field in error.value.fields
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_a_ticket_needs_a_place(ctx, staff):
    with pytest.raises(InvalidInput) as error:
        ledger.log(staff, contact(to_ticket=True, answer=""), "form-4", NOW)
    assert "place" in error.value.fields


def test_only_staff_log(ctx, make_user):
    member = db.session.get(User, make_user(Role.MEMBER).id)
    with pytest.raises(PermissionDenied):
        ledger.log(member, contact(), "form-5", NOW)


def test_the_ledger_page_logs_and_reads_out_the_code(app, make_user):
    client = app.test_client()
    login(client, make_user(Role.STAFF, region="440106").phone)
    html = client.get("/staff/ledger").get_data(as_text=True)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf, "token": token, "channel": "hotline", "kind": "appeal", "category": "labour.wages",
            "summary": "工地欠薪", "to_ticket": "y", "city": "4401", "district": "440106", "town": "440106006"}
    done = client.post("/staff/ledger", data=data).get_data(as_text=True)
    assert re.search(r"44-\d{8}-\d{4}", done) and re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", done)
    listing = client.get("/staff/ledger").get_data(as_text=True)
    assert "工地欠薪" in listing
    bad = client.post("/staff/ledger", data=data | {"token": "forged"})
    assert bad.status_code == 422 and "工地欠薪" in bad.get_data(as_text=True)
