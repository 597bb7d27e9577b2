"""Memberships: the roster, sign-up against it, admins' decisions, and the card's short-lived proofs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.exceptions import InvalidInput, NotRedeemable
from portal.extensions import db
from portal.models import BenefitEvent, Membership, MembershipStatus, Role, User
from portal.services import members
from tests.factories import NOW, PASSWORD, roster

ROSTER = """number,name,union,occupation,member_since,valid_until
GZ2024000001,张三,广州市总工会,delivery,2020-03-01,2027-12-31
GZ2024000002,欧阳小明,广州市总工会,sanitation,2021-05-01,2026-11-19
"""


def test_a_roster_number_under_its_name_is_a_membership_at_once(ctx):
    assert roster(ROSTER).added == 2
    membership = members.sign_up(phone="138 0000 0001", password=PASSWORD, number="gz2024000001", name="张 三",
                                 now=NOW)
    assert membership.status is MembershipStatus.ACTIVE and membership.user.role is Role.MEMBER
    assert membership.user.phone == "13800000001" and members.is_valid(membership, NOW)
    assert membership.tag == "delivery" and membership.union_name == "广州市总工会"


def test_an_unknown_number_waits_for_an_administrator_and_a_later_roster_activates_it(ctx, make_user):
    membership = members.sign_up(phone="13800000001", password=PASSWORD, number="SZ77", name="李四", now=NOW)
    assert membership.status is MembershipStatus.PENDING and not members.is_valid(membership, NOW)
    assert [m.id for m in members.pending()] == [membership.id]
    report = roster(ROSTER + "SZ77,李四,深圳市总工会,courier,,2027-06-30\n")
    assert (report.added, report.activated) == (2, 1)
    db.session.refresh(membership)
    assert membership.status is MembershipStatus.ACTIVE and membership.tag == "courier"


def test_sign_up_refuses_a_wrong_name_a_taken_number_and_bad_fields(ctx):
    roster(ROSTER)
    with pytest.raises(InvalidInput) as wrong:
        members.sign_up(phone="13800000001", password=PASSWORD, number="GZ2024000001", name="王五", now=NOW)
    assert "name" in wrong.value.fields
    members.sign_up(phone="13800000001", password=PASSWORD, number="GZ2024000001", name="张三", now=NOW)
    with pytest.raises(InvalidInput) as taken:
        members.sign_up(phone="13800000002", password=PASSWORD, number="GZ2024000001", name="张三", now=NOW)
    assert "number" in taken.value.fields
    for fields in ({"number": "a"}, {"number": "GZ 1;DROP"}, {"name": ""}, {"phone": "12345"},
                   {"password": "12345678"}, {"name": "名" * 65}):
        with pytest.raises(InvalidInput):
            members.sign_up(**{"phone": "13800000003", "password": PASSWORD, "number": "GZ2024000002",
                               "name": "欧阳小明", "now": NOW, **fields})
    assert db.session.scalar(select(Membership).where(Membership.number == "GZ2024000002")).user_id is None


def test_an_administrator_decides_a_pending_sign_up_once(ctx, make_user):
    admin = db.session.get(User, make_user(Role.ADMIN).id)
    waiting = members.sign_up(phone="13800000001", password=PASSWORD, number="FS0001", name="陈六", now=NOW)
    approved = members.decide(waiting.id, True, admin, NOW, tag="construction", valid_until=date(2027, 1, 31),
                              union_name="佛山市总工会")
    assert approved.status is MembershipStatus.ACTIVE and approved.member_since == date(2026, 11, 20)
    with pytest.raises(InvalidInput):
        members.decide(waiting.id, False, admin, NOW)
    actions = db.session.scalars(select(BenefitEvent.action).order_by(BenefitEvent.id)).all()
    assert actions == ["signed_up", "approved"]


def test_the_roster_import_is_all_or_nothing_and_idempotent(ctx):
    bad = ROSTER + "GZ2024000001,张三,广州市总工会,delivery,,\nGZ9,王,,astronaut,,\nGZ10,赵,,other,2020-13-01,\n"
    report = roster(bad)
    assert not report.ok and [line for line, _ in report.problems] == [4, 5, 6]
    assert db.session.scalar(select(Membership.id)) is None
    assert roster(ROSTER).added == 2
    again = roster(ROSTER)
    assert (again.added, again.updated, again.activated) == (0, 0, 0)
    with pytest.raises(InvalidInput):
        members.read_roster(b"number,name\nGZ1,x\n")
    with pytest.raises(InvalidInput):
        members.read_roster("number,name\n".encode("gbk") + "张三".encode("gbk"))


def test_a_lapsed_membership_is_not_valid(ctx):
    roster(ROSTER)
    lapsed = members.sign_up(phone="13800000002", password=PASSWORD, number="GZ2024000002", name="欧阳小明",
                             now=NOW)
    assert lapsed.status is MembershipStatus.ACTIVE and not members.is_valid(lapsed, NOW)
    assert members.is_valid(lapsed, NOW - timedelta(days=1))


def test_masks_keep_a_hint_and_nothing_more():
    assert [members.mask_name(n) for n in ("张三", "张", "欧阳小明", " 李大钊 ")] == ["张*", "张*", "欧**明", "李*钊"]
    assert members.mask_number("GZ2024000123") == "********0123"


# ------------------------------------------------------------------------------------------ card proofs

@pytest.fixture
def member(ctx):
    roster(ROSTER)
    return members.sign_up(phone="13800000001", password=PASSWORD, number="GZ2024000001", name="张三", now=NOW)


def test_a_card_token_holds_for_sixty_seconds_and_not_one_more(member):
    token = members.card_token(member, NOW)
    assert members.read_card(token, NOW).id == member.id
    assert members.read_card(token, NOW + timedelta(seconds=60)).id == member.id
    with pytest.raises(NotRedeemable):  # replayed after its lifetime
        members.read_card(token, NOW + timedelta(seconds=61))
    with pytest.raises(NotRedeemable):  # from the future: a clock trick, not a card
        members.read_card(members.card_token(member, NOW + timedelta(seconds=5)), NOW)


def test_a_forged_or_altered_token_fails(member, app):
    token = members.card_token(member, NOW)
    payload, stamp, signature = token.split(".")
    forged_other_key = URLSafeTimedSerializer("another-secret-key-that-is-long-enough-0123", salt="member-card")
    for bad in (payload + "." + stamp + "." + signature[:-1] + ("A" if signature[-1] != "A" else "B"),
                "Mg." + stamp + "." + signature,  # another member's id under this signature
                forged_other_key.dumps(member.id), token[::-1], "", "x" * 500, "1.2.3"):
        with pytest.raises(NotRedeemable):
            members.read_card(bad, NOW)
    other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="merchant-checkout").dumps(member.id)
    with pytest.raises(NotRedeemable):  # a token the portal signed for another purpose
        members.read_card(other_salt, NOW)


def test_the_typed_code_lasts_thirty_to_sixty_seconds(member):
    start = NOW.replace(second=0)  # the first second of a 30-second step
    code = members.card_code(member, start)
    assert code.startswith(str(member.id)) and len(code) == len(str(member.id)) + members.CODE_DIGITS
    assert members.read_card(code, start + timedelta(seconds=59)).id == member.id
    assert members.read_card(" ".join(code), start).id == member.id  # typed with spaces
    with pytest.raises(NotRedeemable):
        members.read_card(code, start + timedelta(seconds=60))
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(NotRedeemable):
        members.read_card(wrong, start)
    with pytest.raises(NotRedeemable):  # the same digits do not prove another member
        members.read_card(str(member.id + 1) + code[len(str(member.id)):], start)


@pytest.mark.parametrize("typed", ["²²²²²²²²", "١٢٣٤٥٦٧٨", "１２３４５６７８", "99999999999123456", "2147483648123456"])
def test_a_typed_code_of_unicode_digits_or_an_id_no_column_holds_proves_nothing(member, typed):
    """Once a 500: str.isdigit takes ² (which int() refuses) and ١٢٣ (which it reads), and an id past 2^31 − 1
    reached PostgreSQL's INTEGER."""
    with pytest.raises(NotRedeemable):
        members.read_card(typed, NOW)


def test_a_card_of_a_roster_row_nobody_claimed_proves_nothing(ctx):
    roster(ROSTER)
    unclaimed = db.session.scalar(select(Membership).where(Membership.number == "GZ2024000002"))
    with pytest.raises(NotRedeemable):
        members.read_card(members.card_token(unclaimed, NOW), NOW)
