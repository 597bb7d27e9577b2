"""The builders of tests/factories.py make what they promise, through the services."""

from __future__ import annotations

import pytest

from portal.models import MembershipStatus, Role, Status, VoucherStatus
from portal.services import benefits, members, merchants, tickets, users
from tests import factories


@pytest.mark.parametrize("status", list(Status))
def test_a_ticket_is_brought_to_any_status_by_the_registry(ctx, status):
    ticket = factories.ticket(status)
    assert ticket.status is status
    assert ticket.events[0].action == "submitted" and len(ticket.events) == 1 + len(factories.ROUTES[status])


def test_tickets_are_numbered_and_acted_on_by_the_staff_the_test_made(ctx):
    province = factories.user(Role.STAFF, "44")
    first, second = factories.ticket(Status.ACCEPTED), factories.ticket(Status.ACCEPTED)
    assert first.id != second.id and first.number.endswith("-0001") and second.number.endswith("-0002")
    assert {e.actor_id for e in first.events[1:]} == {province.id}
    assert tickets.staff_actions(first, province, factories.NOW)


def test_a_member_is_on_the_roster_signed_up_and_valid(ctx):
    first, second = factories.member(), factories.member(tag="delivery")
    assert (first.number, first.user.phone, second.number) == ("GH000001", "13900000001", "GH000002")
    assert first.status is MembershipStatus.ACTIVE and members.is_valid(first, factories.NOW)


def test_a_merchant_has_its_staff_and_offers(ctx):
    merchant, key = factories.merchant(staff=["13700000001"], offers=[factories.offer()])
    assert merchant.name == "测试商户1" and key and [o.title for o in merchant.offers] == ["会员九折"]
    assert merchants.of_staff(users.find_user("13700000001")).id == merchant.id


def test_a_voucher_is_usable_at_now(ctx):
    voucher = factories.voucher()
    assert voucher.status is VoucherStatus.AVAILABLE and benefits.state(voucher, factories.NOW) == "available"


def test_numbering_starts_again_for_every_test(ctx):
    assert factories.user().phone == "13800000000" and factories.station().name == "测试驿站0"
