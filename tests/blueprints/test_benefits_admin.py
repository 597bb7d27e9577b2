"""The administrators' benefits pages through HTTP: totals and their CSV, the roster import, decisions on
sign-ups, campaigns created and stopped, and who may reach any of it. Pages are read in English (the lang
cookie), so the assertions hold whatever the Chinese catalogue says."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Campaign, LimitPeriod, Membership, MembershipStatus, MerchantCategory, OfferKind, Role
from portal.services import benefits, members, merchants
from portal.services.sla import local_date
from tests.conftest import NOW, PASSWORD, csrf_token, login

HEADER = "number,name,union,occupation,member_since,valid_until\n"
GOOD = HEADER + "GZ2024000001,张伟,石牌街道总工会,delivery,2020-01-01,2027-12-31\n" \
                "GZ2024000002,王芳,石牌街道总工会,sanitation,,2027-12-31\n"


@pytest.fixture
def admin(app, make_user):
    client = app.test_client()
    client.set_cookie("lang", "en")
    assert login(client, make_user(Role.ADMIN).phone).status_code == 303
    return client


def _count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return found


def _cells(html: str, name: str) -> list[str]:
    """The data cells of the table row headed `name`, as text."""
    row = re.search(rf'<th scope="row">{re.escape(name)}.*?</th>(.*?)</tr>', html, re.S)
    assert row, f"no row for {name}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


def _campaign(name: str = "测试清凉券", **fields) -> benefits.CampaignData:
    values = dict(name=name, amount_fen=199, stock=100, per_member=2, category=MerchantCategory.CATERING,
                  starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=30))
    return benefits.CampaignData(**(values | fields))


def _member(number: str, name: str, phone: str) -> Membership:
    """An active member: on the roster, then signed up with the number."""
    members.import_roster([(2, {"number": number, "name": name, "occupation": "delivery"})], None, NOW)
    return members.sign_up(phone=phone, password=PASSWORD, number=number, name=name, now=NOW)


@pytest.fixture
def redeemed(app):
    """A voucher and an offer used on one bill, and a second redemption undone (so it counts nowhere)."""
    with app.app_context():
        merchant, _ = merchants.create(name="测试餐馆", lat=23.13, lng=113.33, category="catering", now=NOW)
        merchants.create(name="测试药房", lat=23.13, lng=113.33, category="health", now=NOW)  # nothing redeemed
        offer = merchants.add_offer(merchant, merchants.OfferData(title="九折", kind=OfferKind.PERCENT, percent_off=10,
                                                                  starts_on=local_date(NOW)), NOW)
        campaign = benefits.create_campaign(_campaign(), NOW)
        member = _member("GZ2024000009", "李四", "13900000001")
        first, second = (benefits.claim(member, campaign.id, NOW) for _ in range(2))
        benefits.redeem(merchant, benefits.Sale(bill_fen=3000, voucher_code=first.code, offer_id=offer.id,
                                                membership_id=member.id), NOW)
        undone = benefits.redeem(merchant, benefits.Sale(bill_fen=5000, voucher_code=second.code,
                                                         membership_id=member.id), NOW)
        benefits.undo(merchant, undone.redemption.id, NOW + timedelta(minutes=1))
        db.session.remove()


# ----------------------------------------------------------------------------------------------- totals

def test_the_totals_match_the_services_and_count_no_undone_redemption(app, admin, redeemed):
    html = admin.get("/benefits/admin/").get_data(as_text=True)
    with app.app_context():
        (campaign,), (pharmacy, merchant) = benefits.campaign_totals(), benefits.merchant_totals()
        assert (pharmacy.redemptions, pharmacy.bills_fen, pharmacy.voucher_savings_fen) == (0, 0, 0)
        assert (campaign.issued, campaign.redeemed, campaign.spent_fen, campaign.budget_left_fen) == (2, 1, 199, 19_701)
        assert (merchant.redemptions, merchant.bills_fen, merchant.offer_savings_fen,
                merchant.voucher_savings_fen) == (1, 3000, 300, 199)
        db.session.remove()
    cells = _cells(html, "测试清凉券")
    assert cells[:8] == ["¥1.99", "100", "2", "1", "¥199.00", "¥1.99", "¥197.01", "Running"]
    assert cells[8].startswith("11/19/26") and cells[8].endswith("12/20/26, 10:00 AM")  # the window, Beijing time
    assert _cells(html, "测试餐馆") == ["1", "¥30.00", "¥3.00", "¥1.99"]
    assert _cells(html, "测试药房") == ["0", "¥0.00", "¥0.00", "¥0.00"]
    # Both tables fit a phone: each scrolls inside a labelled, focusable region.
    assert html.count('class="table-scroll" role="region"') == 2 and html.count('tabindex="0"') == 2
    assert "<caption" in html and 'scope="col"' in html


def test_the_totals_download_as_csv(app, admin, redeemed):
    response = admin.get("/benefits/admin/totals.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    day = local_date(NOW).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == f"attachment; filename=benefits-totals-{day}.csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffcampaign,face_value_yuan,stock,issued,redeemed,budget_yuan,spent_yuan,")
    assert "测试清凉券,1.99,100,2,1,199.00,1.99,197.01" in text and "测试餐馆,catering,1,30.00,3.00,1.99" in text
    assert "测试药房,health,0,0.00,0.00,0.00" in text
    with app.app_context():
        assert text == benefits.totals_csv()


def test_the_overview_counts_the_sign_ups_waiting(app, admin):
    with app.app_context():
        members.sign_up(phone="13900000002", password=PASSWORD, number="XX0001", name="赵六", now=NOW)
    html = admin.get("/benefits/admin/").get_data(as_text=True)
    assert "1 sign-up waits for your decision" in html and 'href="/benefits/admin/members"' in html
    assert 'href="/benefits/admin/totals.csv"' in html and "No campaign yet." in html


# ----------------------------------------------------------------------------------------------- roster

def _upload(client, content: bytes, token: str | None = None):
    """The multipart body is built here: the test client would spool a large one to a file it never closes."""
    token, boundary = token or csrf_token(client, "/benefits/admin/roster"), "portal-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/benefits/admin/roster", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_roster_is_imported_once_and_then_only_updated(app, admin):
    page = admin.get("/benefits/admin/roster").get_data(as_text=True)
    assert HEADER.strip() in page and "GZ2024000123" in page  # the columns and a sample line
    assert all(code in page for code in members.OCCUPATIONS) and "200,000 rows and 40 MB" in page
    done = _upload(admin, b"\xef\xbb\xbf" + GOOD.encode())  # with the BOM Excel writes
    assert done.status_code == 200 and "2 added, 0 updated, 0 waiting sign-ups activated" in done.get_data(as_text=True)
    again = _upload(admin, GOOD.encode())
    assert again.status_code == 200 and "0 added, 0 updated" in again.get_data(as_text=True)
    changed = _upload(admin, GOOD.replace("sanitation", "courier").encode())
    assert "0 added, 1 updated" in changed.get_data(as_text=True)
    assert _count(app, Membership) == 2


def test_a_roster_activates_the_sign_ups_it_lists(app, admin):
    with app.app_context():
        members.sign_up(phone="13900000003", password=PASSWORD, number="GZ2024000002", name="王芳", now=NOW)
    done = _upload(admin, GOOD.encode())
    assert "1 added, 1 updated, 1 waiting sign-ups activated" in done.get_data(as_text=True)
    with app.app_context():
        assert members.pending() == []


@pytest.mark.parametrize(("content", "expected"), [
    (GOOD + "GZ2024000001,张伟,,delivery,,\n", "Row 4: membership number GZ2024000001 appears twice"),
    (GOOD + "GZ2024000003,刘洋,,pilot,,\n", "Row 4: unknown occupation pilot"),
    (GOOD + "GZ2024000004,陈静,,delivery,2020-02-30,\n", "Row 4: member_since is not a date"),
    (HEADER + "?,,,,,\n", "Row 2:"),
    ("number,name\nGZ2024000005,杨帆\n", "Columns missing: member_since, occupation, union, valid_until"),
    (GOOD.encode("gbk"), "The file is not UTF-8 text"),
])
def test_a_wrong_roster_imports_nothing_and_says_why(app, admin, content, expected):
    response = _upload(admin, content if isinstance(content, bytes) else content.encode())
    assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert _count(app, Membership) == 0


def test_a_roster_too_large_or_missing_is_refused(app, admin):
    token = csrf_token(admin, "/benefits/admin/roster")
    huge = _upload(admin, GOOD.encode() + b"#" * (40 * 1024 * 1024), token=token)
    assert huge.status_code == 400 and "larger than 40 MB" in huge.get_data(as_text=True)
    missing = admin.post("/benefits/admin/roster", data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose the roster file." in missing.get_data(as_text=True)
    assert _count(app, Membership) == 0


def test_an_expired_page_gives_the_roster_form_back(admin):
    response = admin.post("/benefits/admin/roster", data={"file": (io.BytesIO(GOOD.encode()), "roster.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 400 and 'name="file"' in response.get_data(as_text=True)


# -------------------------------------------------------------------------------------------- sign-ups

@pytest.fixture
def waiting(app):
    """Three sign-ups with numbers the roster lacks: their membership ids."""
    with app.app_context():
        ids = [members.sign_up(phone=f"1390000010{n}", password=PASSWORD, number=f"NEW00{n}", name=name, now=NOW).id
               for n, name in enumerate(["赵六", "钱七", "孙八"], start=1)]
        db.session.remove()
        return ids


def _decide(client, membership_id: int, **data):
    token = csrf_token(client, "/benefits/admin/members")
    return client.post(f"/benefits/admin/members/{membership_id}/decide", data={"csrf_token": token, **data})


def _membership(app, membership_id: int) -> Membership:
    with app.app_context():
        found = db.session.get(Membership, membership_id)
        db.session.expunge(found)
        db.session.remove()
        return found


def test_the_sign_ups_are_listed_with_masked_phones_and_unique_ids(admin, waiting):
    html = admin.get("/benefits/admin/members").get_data(as_text=True)
    assert "赵六" in html and "NEW001" in html and "139****0101" in html and "13900000101" not in html
    assert html.count('action="/benefits/admin/members/') == 3
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) and f"tag-{waiting[0]}" in ids and f'for="valid_until-{waiting[2]}"' in html
    assert 'name="csrf_token"' in html and 'id="csrf_token' not in html


def test_an_administrator_approves_and_rejects_sign_ups_once(app, admin, waiting):
    approved = _decide(admin, waiting[0], decision="approve", tag="courier", valid_until="2027-12-31",
                       union_name="快递行业工会")
    assert approved.status_code == 303 and approved.headers["Location"] == "/benefits/admin/members"
    done = _membership(app, waiting[0])
    assert (done.status, done.tag, str(done.valid_until), done.union_name) == (
        MembershipStatus.ACTIVE, "courier", "2027-12-31", "快递行业工会")
    assert "赵六 (NEW001) is now a member." in admin.get("/benefits/admin/members").get_data(as_text=True)
    twice = _decide(admin, waiting[0], decision="reject")
    assert twice.status_code == 400 and "already been decided" in twice.get_data(as_text=True)
    assert _membership(app, waiting[0]).status is MembershipStatus.ACTIVE
    rejected = _decide(admin, waiting[1], decision="reject")
    assert rejected.status_code == 303 and _membership(app, waiting[1]).status is MembershipStatus.REJECTED
    assert _decide(admin, 999_999, decision="approve").status_code == 404


@pytest.mark.parametrize(("data", "expected"), [
    ({"decision": "approve", "tag": "pilot"}, "Not a valid choice"),
    ({"decision": "approve", "valid_until": "2027-13-40"}, "Enter a date between 1900 and 2100"),
    ({"decision": "maybe"}, "Choose Approve or Reject."),
    ({}, "Choose Approve or Reject."),
])
def test_a_refused_decision_changes_nothing_and_keeps_the_row(app, admin, waiting, data, expected):
    response = _decide(admin, waiting[2], **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in html and f'id="tag-{waiting[2]}"' in html
    assert _membership(app, waiting[2]).status is MembershipStatus.PENDING


# ------------------------------------------------------------------------------------------- campaigns

CAMPAIGN = {"name": "一元观影测试", "description": "票价 31 元以内立减 30 元", "amount": "30", "min_spend": "31",
            "tag": "", "category": "cinema", "merchant_id": "", "stock": "500", "per_member": "2",
            "limit_period": "campaign", "starts_at": "2026-12-01T08:00", "ends_at": "2027-01-01T00:00",
            "voucher_days": "0", "budget": ""}


def _create(client, **changes):
    token = csrf_token(client, "/benefits/admin/campaigns/new")
    return client.post("/benefits/admin/campaigns/new", data={"csrf_token": token, **(CAMPAIGN | changes)})


def test_an_administrator_creates_campaigns_in_beijing_time(app, admin):
    assert admin.get("/benefits/admin/campaigns/new").status_code == 200
    created = _create(admin)
    assert created.status_code == 303 and created.headers["Location"] == "/benefits/admin/"
    daily = _create(admin, name="夏季清凉券测试", amount="1.99", min_spend="", tag="delivery", category="catering",
                    stock="5000", per_member="1", limit_period="day", voucher_days="1", budget="5000")
    assert daily.status_code == 303
    with app.app_context():
        cinema, summer = benefits.campaign_by_name("一元观影测试"), benefits.campaign_by_name("夏季清凉券测试")
        assert (cinema.amount_fen, cinema.min_spend_fen, cinema.stock, cinema.per_member, cinema.tag) == (
            3000, 3100, 500, 2, None)
        assert cinema.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
        assert cinema.ends_at == datetime(2026, 12, 31, 16, 0, tzinfo=UTC) and cinema.budget_fen == 1_500_000
        assert (cinema.category, cinema.limit_period) == (MerchantCategory.CINEMA, LimitPeriod.CAMPAIGN)
        assert (summer.limit_period, summer.tag, summer.voucher_days) == (LimitPeriod.DAY, "delivery", 1)
        assert (summer.budget_fen, summer.stock) == (500_000, 2512)  # the budget buys 2,512 of the 5,000
        db.session.remove()


@pytest.mark.parametrize(("changes", "expected"), [
    ({"name": " "}, "Enter a name."),
    ({"amount": "abc"}, "Enter an amount in yuan"),
    ({"amount": "0"}, "A face value of ¥0.01 to ¥100,000."),
    ({"min_spend": "-5"}, "Enter an amount in yuan"),
    ({"min_spend": "200000"}, "Enter an amount between ¥0 and ¥100,000."),
    ({"stock": "0"}, "Number must be between 1 and 10000000."),
    ({"stock": "many"}, "Must be a whole number."),
    ({"per_member": "0"}, "Number must be between 1 and 100."),
    ({"ends_at": "2026-11-30T08:00"}, "The campaign must end after it starts."),
    ({"starts_at": ""}, "Enter when the campaign starts."),
    ({"starts_at": "next week"}, "Enter a date and time between 1900 and 2100"),
    ({"tag": "pilot"}, "Not a valid choice"),
    ({"category": "casino"}, "Not a valid choice"),
    ({"limit_period": "week"}, "Not a valid choice"),
    ({"merchant_id": "999999"}, "No active merchant has this id."),
    ({"budget": "1"}, "The budget must pay for at least one voucher"),
    ({"voucher_days": "400"}, "Number must be between 0 and 366."),
])
def test_a_wrong_campaign_is_explained_and_not_created(app, admin, changes, expected):
    response = _create(admin, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in html, html[-3000:]
    assert _count(app, Campaign) == 0


def test_a_campaign_name_is_used_once(app, admin):
    assert _create(admin).status_code == 303
    again = _create(admin)
    assert again.status_code == 400 and "A campaign with this name already exists." in again.get_data(as_text=True)
    assert _count(app, Campaign) == 1


def test_a_campaign_can_be_stopped_from_the_overview(app, admin):
    with app.app_context():
        campaign_id = benefits.create_campaign(_campaign(starts_at=NOW - timedelta(days=1),
                                                         ends_at=NOW + timedelta(days=30)), NOW).id
    page = admin.get("/benefits/admin/").get_data(as_text=True)
    assert f'action="/benefits/admin/campaigns/{campaign_id}/stop"' in page and "Running" in _cells(page, "测试清凉券")
    token = csrf_token(admin, "/benefits/admin/")
    stopped = admin.post(f"/benefits/admin/campaigns/{campaign_id}/stop", data={"csrf_token": token})
    assert stopped.status_code == 303 and stopped.headers["Location"] == "/benefits/admin/"
    page = admin.get("/benefits/admin/").get_data(as_text=True)
    assert "Stopped" in _cells(page, "测试清凉券") and f"/campaigns/{campaign_id}/stop" not in page
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).active is False
    assert admin.post("/benefits/admin/campaigns/999999/stop", data={"csrf_token": token}).status_code == 404


# ---------------------------------------------------------------------------------------------- access

GETS = ["/benefits/admin/", "/benefits/admin/totals.csv", "/benefits/admin/roster", "/benefits/admin/members",
        "/benefits/admin/campaigns/new"]
POSTS = ["/benefits/admin/roster", "/benefits/admin/members/1/decide", "/benefits/admin/campaigns/new",
         "/benefits/admin/campaigns/1/stop"]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.STAFF, Role.STATION_MANAGER])
def test_only_administrators_reach_the_benefits_pages(app, make_user, role):
    client = app.test_client()
    assert login(client, make_user(role).phone).status_code == 303
    token = csrf_token(client, "/")
    for path in GETS:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client):
    token = csrf_token(client, "/")
    for path in GETS:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/benefits/")
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token}).status_code == 302, path


def test_the_workbench_links_administrators_to_the_benefits(app, admin, make_user):
    assert 'href="/benefits/admin/"' in admin.get("/staff/").get_data(as_text=True)
    staff = app.test_client()
    assert login(staff, make_user(Role.STAFF, region="4401").phone).status_code == 303
    assert 'href="/benefits/admin/"' not in staff.get("/staff/").get_data(as_text=True)
