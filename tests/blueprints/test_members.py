"""Members' own pages through HTTP: sign-up against the roster, the member card and its short-lived proofs,
the wallet with the savings, claiming vouchers, and the account page. Pages are read in English (the
translations come last); memberships are made through the services, as the administrators' roster import and
the sign-up form make them."""

from __future__ import annotations

import html as markup
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.exceptions import NotRedeemable
from portal.extensions import db
from portal.forms import new_form_token
from portal.models import Membership, MembershipStatus, MerchantCategory, Role, Ticket, User, Voucher
from portal.services import benefits, members, merchants, qr, users
from tests.conftest import NOW, PASSWORD, csrf_token, grievance_form, login

ROSTER = """number,name,union,occupation,member_since,valid_until
GZ2024000001,张三丰,广州市天河区总工会,delivery,2020-03-01,2099-12-31
GZ2024000002,欧阳小明,广州市总工会,sanitation,2021-05-01,2099-12-31
GZ2019000009,李旧,广州市总工会,other,2019-01-01,2020-12-31
"""


@pytest.fixture
def en(client):
    """The client reads pages in English from now on (the language cookie)."""
    client.get("/?lang=en")
    return client


@pytest.fixture
def roster(app):
    with app.app_context():
        report = members.import_roster(members.read_roster(ROSTER.encode()), None, NOW)
        assert report.ok and report.added == 3
        db.session.remove()


def sign_up_data(client, **overrides) -> dict:
    return {"csrf_token": csrf_token(client, "/member/signup"), "phone": "13800000001", "password": PASSWORD,
            "number": "GZ2024000001", "name": "张三丰"} | overrides


def sign_up(client, **overrides):
    return client.post("/member/signup", data=sign_up_data(client, **overrides))


def member(app, phone: str, number: str, name: str) -> int:
    """A member account and its membership, made by the sign-up service; the membership's id."""
    with app.app_context():
        membership = members.sign_up(phone=phone, password=PASSWORD, number=number, name=name, now=NOW)
        membership_id = membership.id
        db.session.remove()
        return membership_id


def read(response) -> str:
    """The page's text as a reader sees it ("administrator's", not "administrator&#39;s")."""
    return markup.unescape(response.get_data(as_text=True))


def count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


# ------------------------------------------------------------------------------------------------ sign-up

def test_the_member_page_invites_visitors_to_sign_up_or_in(en):
    html = en.get("/member/").get_data(as_text=True)
    assert 'href="/member/signup"' in html and 'href="/login?next=/member/"' in html
    assert "/member/card" not in html


def test_a_roster_number_under_its_name_signs_up_signs_in_and_opens_the_card(app, en, roster):
    response = sign_up(en, phone="138 0000 0001", number="gz2024000001", name="张 三丰")
    assert response.status_code == 303 and response.headers["Location"] == "/member/card"
    card = en.get("/member/card")
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and "Your membership is confirmed" in html
    assert "张*丰" in html and "********0001" in html and "张三丰" not in html and "GZ2024000001" not in html
    assert "广州市天河区总工会" in html and '<svg class="qr" role="img" aria-label=' in html
    with app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "13800000001"))
        assert user.role is Role.MEMBER and members.of_user(user).status is MembershipStatus.ACTIVE
        db.session.remove()
    account = en.get("/account").get_data(as_text=True)
    assert "Union membership" in account and "********0001" in account and 'href="/member/card"' in account
    assert 'href="/track/"' in account
    home = en.get("/member/").get_data(as_text=True)
    assert all(f'href="/member/{page}"' in home for page in ("card", "wallet", "campaigns"))
    assert 'class="member-saved-amount">¥0.00<' in home and 'href="/member/signup"' not in home


def test_an_unknown_number_signs_up_and_waits_for_an_administrator(app, en):
    response = sign_up(en, number="SZ7788", name="李四")
    assert response.status_code == 303 and response.headers["Location"] == "/member/"
    html = read(en.get("/member/"))
    assert "waiting for an administrator's approval" in html and "/member/card/code" not in html
    card = read(en.get("/member/card"))
    assert "Waiting for an administrator's approval" in card and '<svg class="qr"' not in card
    assert "members-code" not in card
    assert "waiting for an administrator's approval" in read(en.get("/account"))
    with app.app_context():
        assert db.session.scalar(select(Membership.status).where(Membership.number == "SZ7788")) \
            is MembershipStatus.PENDING
        db.session.remove()


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "张三"}, "name", "does not match the roster"),
    ({"phone": "12345"}, "phone", "11-digit mainland mobile number"),
    ({"password": "12345678"}, "password", "too easy to guess"),
    ({"password": "short"}, "password", "at least 8 characters"),
    ({"number": "号"}, "number", "membership number on your union card"),
    ({"name": ""}, "name", "name as it is on your union card"),
    ({"phone": ""}, "phone", "Enter your mobile number."),
])
def test_bad_sign_ups_come_back_with_the_reason_beside_the_field(app, en, roster, overrides, field, message):
    response = sign_up(en, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1), html
    assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    assert count(app, User) == 0 and en.get("/account").status_code == 302


def test_a_number_someone_already_signed_up_with_is_refused(app, en, roster):
    member(app, "13900000009", "GZ2024000001", "张三丰")
    response = sign_up(en, phone="13800000001")
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    response = sign_up(en, phone="13900000009", number="GZ2024000002", name="欧阳小明")
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)
    assert count(app, User) == 1


def test_sign_up_keeps_what_was_typed_except_the_password(en, roster):
    html = sign_up(en, name="张三").get_data(as_text=True)
    assert 'value="13800000001"' in html and 'value="GZ2024000001"' in html and PASSWORD not in html


def test_failed_sign_ups_from_one_address_are_throttled(app, en, roster):
    for n in range(10):
        assert sign_up(en, phone=f"1380000{n:04d}", name="王五").status_code == 422
    blocked = sign_up(en, phone="13800009999")
    assert blocked.status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert sign_up(elsewhere).status_code == 303


def test_a_sign_up_without_its_csrf_token_is_refused_with_the_form_back(app, en, roster):
    response = en.post("/member/signup", data=sign_up_data(en) | {"csrf_token": ""})
    assert response.status_code == 400 and 'name="phone"' in response.get_data(as_text=True)
    assert count(app, User) == 0


# --------------------------------------------------------------------------------------------- the card

def signed_in_member(app, client, phone="13800000001", number="GZ2024000001", name="张三丰") -> int:
    membership_id = member(app, phone, number, name)
    assert login(client, phone).status_code == 303
    return membership_id


def test_the_card_shows_proofs_that_work_now_and_not_61_seconds_later(app, en, roster):
    membership_id = signed_in_member(app, en)
    before = NOW.replace(microsecond=0)
    response = en.get("/member/card")
    after = NOW
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert '<meta http-equiv="refresh" content="25">' in html and 'hx-trigger="every 20s' in html
    assert 'id="members-announce" class="visually-hidden" role="status" aria-live="polite"' in html
    assert re.search(r'src="/static/js/member-card\.js\?v=[0-9a-f]+" defer', html)
    digits = re.search(r'class="member-code-digits" role="img" aria-label="Member code: ([\d ]+)">([\d ]+)<', html)
    spoken, shown = digits.groups()
    code = shown.replace(" ", "")
    assert spoken == " ".join(code) and re.fullmatch(r"\d{1,3}( \d{3})+", shown)
    with app.app_context():
        assert members.read_card(shown, after).id == membership_id
        with pytest.raises(NotRedeemable):
            members.read_card(code, after + timedelta(seconds=61))
        # The QR holds the token signed at the second the page was drawn: find that second, then replay it.
        membership = db.session.get(Membership, membership_id)
        seconds = int((after - before).total_seconds()) + 1
        moments = [before + timedelta(seconds=s) for s in range(seconds + 1)]
        drawn = next(t for t in moments if str(qr.svg(members.card_token(membership, t), "")).split("<path")[1]
                     in html)
        token = members.card_token(membership, drawn)
        assert members.read_card(token, drawn + timedelta(seconds=60)).id == membership_id
        with pytest.raises(NotRedeemable):
            members.read_card(token, drawn + timedelta(seconds=61))
        for position in (0, -5):  # the membership id, the signature
            altered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
            with pytest.raises(NotRedeemable):
                members.read_card(altered, drawn)
        db.session.remove()


def test_htmx_fetches_a_fresh_code_alone_and_a_plain_request_gets_the_page(en, app, roster):
    signed_in_member(app, en)
    fragment = en.get("/member/card/code", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="members-code"') and "<html" not in text
    assert '<svg class="qr"' in text and "no-store" in fragment.headers["Cache-Control"]
    assert "HX-Request" in fragment.headers["Vary"]
    page = en.get("/member/card/code").get_data(as_text=True)
    assert "<html" in page and 'id="members-code"' in page and "张*丰" in page


def test_an_expired_membership_and_a_rejected_one_show_no_code(app, en, roster):
    signed_in_member(app, en, number="GZ2019000009", name="李旧")
    html = en.get("/member/card").get_data(as_text=True)
    assert "Your membership has expired" in html and '<svg class="qr"' not in html
    assert "Expired" in en.get("/account").get_data(as_text=True)
    other = app.test_client()
    other.get("/?lang=en")
    membership_id = signed_in_member(app, other, phone="13800000002", number="SZ0001", name="赵六")
    with app.app_context():
        admin = users.create_user(phone="13700000001", password=PASSWORD, role=Role.ADMIN, now=NOW)
        members.decide(membership_id, False, admin, NOW)
        db.session.remove()
    html = other.get("/member/card").get_data(as_text=True)
    assert "Your sign-up was not approved" in html and '<svg class="qr"' not in html
    assert "members-code" not in other.get("/member/card/code").get_data(as_text=True)


def test_the_card_is_for_members_only(app, client, en, login_as):
    anonymous = app.test_client()
    assert anonymous.get("/member/card").headers["Location"] == "/login?next=/member/card"
    login_as(Role.STAFF)
    assert client.get("/member/card").status_code == 403
    assert client.get("/member/wallet").status_code == 403
    other = app.test_client()
    other.get("/?lang=en")
    with app.app_context():  # a member account an administrator made, with no membership behind it
        users.create_user(phone="13600000001", password=PASSWORD, role=Role.MEMBER, now=NOW)
        db.session.remove()
    assert login(other, "13600000001").status_code == 303
    for path in ("/member/card", "/member/wallet", "/member/campaigns", "/member/"):
        response = other.get(path)
        assert response.status_code == 200, path
        assert "not linked to a union membership" in response.get_data(as_text=True), path
    token = csrf_token(other, "/member/campaigns")
    assert other.post("/member/campaigns/1/claim", data={"csrf_token": token}).status_code == 403


# -------------------------------------------------------------------------------------- wallet and claims

def campaign(app, name="夏季清凉券", **fields) -> int:
    now = NOW
    data = {"name": name, "amount_fen": 199, "stock": 100, "starts_at": now - timedelta(days=10),
            "ends_at": now + timedelta(days=30)} | fields
    with app.app_context():
        campaign_id = benefits.create_campaign(benefits.CampaignData(**data), now).id
        db.session.remove()
        return campaign_id


def test_the_wallet_groups_vouchers_and_counts_the_savings(app, en, roster):
    signed_in_member(app, en)
    now = NOW
    campaign(app, "清凉券", description="")
    campaign(app, "一日券", amount_fen=500, voucher_days=1, category=MerchantCategory.CATERING)
    with app.app_context():
        shop, _key = merchants.create(name="老王快餐", lat=23.13, lng=113.33, category="catering", now=now)
        ready, used = benefits.issue("13800000001", "清凉券", 2, now)
        benefits.issue("13800000001", "一日券", 1, now - timedelta(days=3))  # lasted its one day
        benefits.issue("13800000001", "一日券", 1, now + timedelta(days=2))  # not usable yet
        benefits.redeem(shop, benefits.Sale(bill_fen=2_000, voucher_code=used.code), now)
        other = benefits.redeem(shop, benefits.Sale(bill_fen=1_000, voucher_code=ready.code), now)
        benefits.undo(shop, other.redemption.id, now)
        ready_code = benefits.show_code(ready.code)
        db.session.remove()
    html = en.get("/member/wallet").get_data(as_text=True)
    assert 'class="member-saved-amount">¥1.99<' in html  # the live redemption only, not the undone one
    sections = {m.group(1): m.start() for m in re.finditer(r"<h2>(Ready to use|Coming soon|Used|Expired|Recent "
                                                          r"savings)", html)}
    assert list(sections) == ["Ready to use", "Coming soon", "Used", "Expired", "Recent savings"]
    ready_part = html[sections["Ready to use"]:sections["Coming soon"]]
    assert ready_code in ready_part and "清凉券" in ready_part and "Any partner merchant" in ready_part
    assert "一日券" in html[sections["Coming soon"]:sections["Used"]]
    assert "Any partner merchant in Catering" in html[sections["Coming soon"]:sections["Used"]]
    assert "清凉券" in html[sections["Used"]:sections["Expired"]]
    assert "一日券" in html[sections["Expired"]:sections["Recent savings"]]
    history = html[sections["Recent savings"]:]
    assert history.count("老王快餐") == 2 and "¥20.00" in history and "Undone" in history
    assert ready_code not in html[sections["Coming soon"]:]  # a code is shown only while it can be used


def claim_form(client, campaign_id: int) -> dict:
    html = client.get("/member/campaigns").get_data(as_text=True)
    form = re.search(rf'action="/member/campaigns/{campaign_id}/claim"(.*?)</form>', html, re.S).group(1)
    return {name: value for name, value in re.findall(r'name="(\w+)" value="([^"]+)"', form)}


def fresh_token(app) -> str:
    """A claim form's one-time token, as the server issues it, for a button the page does not show."""
    with app.test_request_context():
        return new_form_token()


def vouchers(app) -> list[tuple[int, str]]:
    with app.app_context():
        found = [(v.membership_id, v.code) for v in db.session.scalars(select(Voucher).order_by(Voucher.id))]
        db.session.remove()
        return found


def test_a_member_claims_a_voucher_and_a_double_tap_claims_it_once(app, en, roster):
    membership_id = signed_in_member(app, en)
    campaign_id = campaign(app, per_member=2, stock=50)
    html = en.get("/member/campaigns").get_data(as_text=True)
    assert "夏季清凉券" in html and "¥1.99" in html and "50 vouchers" in html and "2 vouchers" in html
    data = claim_form(en, campaign_id)
    first = en.post(f"/member/campaigns/{campaign_id}/claim", data=data)
    again = en.post(f"/member/campaigns/{campaign_id}/claim", data=data)
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == "/member/wallet"
    [(owner, code)] = vouchers(app)
    assert owner == membership_id
    wallet = en.get("/member/wallet").get_data(as_text=True)
    assert f"Claimed: your 夏季清凉券 voucher {benefits.show_code(code)} is in your wallet." in wallet
    assert "you have 1" in en.get("/member/campaigns").get_data(as_text=True)
    second = en.post(f"/member/campaigns/{campaign_id}/claim", data=claim_form(en, campaign_id))
    assert second.status_code == 303 and len(vouchers(app)) == 2
    page = en.get("/member/campaigns").get_data(as_text=True)
    assert "You have claimed all the vouchers you may." in page
    assert f'action="/member/campaigns/{campaign_id}/claim"' not in page


def test_each_claim_button_carries_its_own_one_time_key(app, en, roster):
    signed_in_member(app, en)
    a, b = campaign(app, "甲券"), campaign(app, "乙券")
    html = en.get("/member/campaigns").get_data(as_text=True)
    tokens = re.findall(r'name="token" value="([^"]+)"', html)
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert en.post(f"/member/campaigns/{a}/claim", data=claim_form(en, a)).status_code == 303
    assert en.post(f"/member/campaigns/{b}/claim", data=claim_form(en, b)).status_code == 303
    assert len(vouchers(app)) == 2


def test_refused_claims_come_back_with_the_reason_and_its_status(app, en, roster):
    signed_in_member(app, en)
    sold_out = campaign(app, "抢光券", stock=1)
    riders = campaign(app, "环卫券", tag="sanitation")
    data = claim_form(en, sold_out)
    member(app, "13800000002", "GZ2024000002", "欧阳小明")
    with app.app_context():
        benefits.issue("13800000002", "抢光券", 1, NOW)
        db.session.remove()
    response = en.post(f"/member/campaigns/{sold_out}/claim", data=data)
    assert response.status_code == 409
    assert "All vouchers of this campaign have been claimed." in response.get_data(as_text=True)
    assert "环卫券" not in en.get("/member/campaigns").get_data(as_text=True)  # another occupation's campaign
    response = en.post(f"/member/campaigns/{riders}/claim", data=data | {"token": fresh_token(app)})
    assert response.status_code == 403 and "This campaign is for Sanitation worker only." in response.get_data(
        as_text=True)
    response = en.post("/member/campaigns/999999/claim", data=data | {"token": fresh_token(app)})
    assert response.status_code == 404
    assert len(vouchers(app)) == 1


def test_a_claim_without_its_csrf_token_or_with_a_forged_key_claims_nothing(app, en, roster):
    signed_in_member(app, en)
    campaign_id = campaign(app)
    data = claim_form(en, campaign_id)
    missing = en.post(f"/member/campaigns/{campaign_id}/claim", data={"token": data["token"]})
    assert missing.status_code == 400 and "expired" in missing.get_data(as_text=True)
    forged = en.post(f"/member/campaigns/{campaign_id}/claim", data=data | {"token": "made-up"})
    assert forged.status_code == 400
    assert vouchers(app) == []
    assert en.post(f"/member/campaigns/{campaign_id}/claim", data=data).status_code == 303


def test_an_inactive_member_sees_campaigns_but_cannot_claim(app, en):
    member(app, "13800000001", "SZ7788", "李四")
    assert login(en, "13800000001").status_code == 303
    campaign_id = campaign(app)
    html = read(en.get("/member/campaigns"))
    assert "Waiting for an administrator's approval" in html and "Your membership is not active" in html
    assert f'action="/member/campaigns/{campaign_id}/claim"' not in html
    token = csrf_token(en, "/member/campaigns")
    response = en.post(f"/member/campaigns/{campaign_id}/claim", data={"csrf_token": token, "token": fresh_token(app)})
    assert response.status_code == 403 and "Your membership is not active" in response.get_data(as_text=True)
    assert vouchers(app) == []


# ------------------------------------------------------------------------- one identity for grievances too

def test_a_signed_in_members_grievance_is_theirs_to_follow(app, en, roster):
    signed_in_member(app, en)
    assert en.post("/grievances/", data=grievance_form(en)).status_code == 200
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        user_id = db.session.scalar(select(User.id).where(User.phone == "13800000001"))
        assert ticket.member_id == user_id
        number = ticket.number
        db.session.remove()
    tracking = en.get("/track/").get_data(as_text=True)
    assert f'href="/track/{number}"' in tracking
    assert en.get(f"/track/{number}").status_code == 200
