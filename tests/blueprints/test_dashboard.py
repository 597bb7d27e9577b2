"""The big screen through HTTP: who may see which region, figures of the scope only, the live part's 204 and
fragment, refused periods, the public screen's "<5", the CSV, and the category drill-down."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from portal.extensions import db
from portal.models import Channel, Kind, Role, User
from portal.services import ledger, stats, tickets
from tests.conftest import NOW, login
from tests.factories import wages

GUANGZHOU_TOWN = "440106006"  # 石牌街道, 天河区, 广州市
GUANGZHOU_DISTRICT = "440104"  # 越秀区
SHENZHEN_DISTRICT = "440304"  # 福田区
SECRET = "甲乙丙公司拖欠外卖骑手奖金"  # words no public page may ever show
NAME, PHONE = "张秘密", "13912345678"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The screen's "today" and "this month" are those of NOW (the `clock` fixture), whatever the day the suite
    runs; stations and benefits are cached per process for a minute, so each test starts without them."""
    stats.forget_cache()
    yield
    stats.forget_cache()


@pytest.fixture
def submit(app):
    """Tickets through the real service (so the rollups are kept as in production); returns their numbers."""
    counter = iter(range(10_000))

    def make(place: str, n: int = 1, **overrides) -> list[str]:
        numbers = []
        with app.app_context():
            for _ in range(n):
                receipt = tickets.submit(wages(place_code=place, **overrides), token=f"dash-{next(counter)}", now=NOW)
                numbers.append(receipt.ticket.number)
            db.session.remove()
        return numbers

    return make


def staff_client(app, make_user, region: str | None, role: Role = Role.STAFF):
    user = make_user(role, region=region)
    client = app.test_client()
    assert login(client, user.phone).status_code == 303
    client.get("/?lang=en")  # the language cookie: labels in English for the assertions
    return client


def kpi(page: str, label: str, section: str = "period") -> str:
    """The value of a tile: of today, of the period, or of stations and benefits (the three lists of tiles)."""
    lists = re.findall(r'<dl class="kpis[^"]*">(.*?)</dl>', page, re.S)
    tiles = lists[("today", "period", "services").index(section)]
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", tiles, re.S)
    assert found, f"no tile {label!r}"
    return html.unescape(re.sub(r'<span class="kpi-base">.*?</span>', "", found.group(1))).strip()


def kpi_base(page: str, label: str) -> str:
    """What a rate's tile says it is taken over ("" when it says nothing)."""
    found = re.search(rf'<dt>{re.escape(label)}</dt><dd>[^<]*(?:<span class="kpi-base">(.*?)</span>)?</dd>', page)
    assert found, f"no tile {label!r}"
    return html.unescape(found.group(1) or "")


def poller(page: str) -> str:
    """The URL the live part polls, as htmx would read it."""
    return html.unescape(re.search(r'id="dashboard-live"[^>]*hx-get="([^"]+)"', page, re.S).group(1))


# ---------------------------------------------------------------------------------------------- access

@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/live", "/dashboard/export.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MERCHANT, Role.STATION_MANAGER])
def test_other_roles_are_refused(app, make_user, role):
    client = staff_client(app, make_user, None, role=role)
    for path in ("/dashboard/", "/dashboard/live", "/dashboard/export.csv"):
        assert client.get(path).status_code == 403, path
    assert client.get("/dashboard/public").status_code == 200


def test_staff_see_their_region_and_below_and_nothing_beside_it(app, make_user):
    client = staff_client(app, make_user, "4401")
    for path in ("/dashboard/", "/dashboard/live", "/dashboard/export.csv"):
        assert client.get(f"{path}?region=4403").status_code == 404, path  # a sibling city
        assert client.get(f"{path}?region=44").status_code == 404, path  # the province above
        assert client.get(f"{path}?region=99").status_code == 404, path  # no such region
        assert client.get(f"{path}?region=440106").status_code == 200, path  # a district below
    page = client.get("/dashboard/?region=440106").get_data(as_text=True)
    assert "Worker services in Tianhe District" in page
    assert 'href="/dashboard/?region=4401"' in page  # the trail links up to their own region
    assert 'href="/dashboard/?region=44"' not in page  # and not above it


def test_administrators_see_the_whole_province(app, make_user):
    client = staff_client(app, make_user, None, role=Role.ADMIN)
    assert "Worker services in Guangdong" in client.get("/dashboard/").get_data(as_text=True)
    assert client.get("/dashboard/?region=4403").status_code == 200


# --------------------------------------------------------------------------------------------- figures

def test_the_page_counts_the_tickets_of_its_scope_only(app, make_user, submit):
    submit(GUANGZHOU_TOWN, 2)
    submit(GUANGZHOU_DISTRICT)
    submit(SHENZHEN_DISTRICT, 4)
    city = staff_client(app, make_user, "4401").get("/dashboard/").get_data(as_text=True)
    assert kpi(city, "Requests") == "3" and kpi(city, "New requests", "today") == "3"
    assert kpi(city, "Contacts") == "3"  # web submissions are contacts themselves
    assert kpi(city, "In progress") == "3" and kpi(city, "Closed") == "0"
    assert kpi(city, "Resolved") == "0.0%" and kpi(city, "On time") == "—"  # nothing answered yet
    assert kpi_base(city, "Resolved") == "0 of 3 answered or closed" and kpi_base(city, "On time") == ""
    ranking = re.search(r'<ol class="dash-ranking">(.*?)</ol>', city, re.S).group(1)
    assert ranking.index("Tianhe") < ranking.index("Yuexiu") and "Futian" not in ranking  # busiest first
    assert "Shenzhen" not in city
    province = staff_client(app, make_user, "44").get("/dashboard/").get_data(as_text=True)
    assert kpi(province, "Requests") == "7"
    ranking = re.search(r'<ol class="dash-ranking">(.*?)</ol>', province, re.S).group(1)
    assert ranking.index("Shenzhen") < ranking.index("Guangzhou")  # 4 before 3
    assert len(re.findall(r"<li>", ranking)) == 21  # every city, the quiet ones too
    town = staff_client(app, make_user, "4401").get(f"/dashboard/?region={GUANGZHOU_TOWN}").get_data(as_text=True)
    assert kpi(town, "Requests") == "2" and "dash-ranking" not in town  # a town has nothing below it


def test_the_charts_data_travels_with_the_live_part_and_matches_the_tables(app, make_user, submit):
    submit(GUANGZHOU_TOWN, 2)
    page = staff_client(app, make_user, "4401").get("/dashboard/").get_data(as_text=True)
    data = json.loads(html.unescape(re.search(r"data-charts='([^']*)'", page).group(1)))
    assert {"channels", "categories", "kline", "words"} <= set(data)
    web = next(item for item in data["channels"]["items"] if item["name"] == "Web")
    assert web["value"] == 2
    assert data["kline"]["candles"][-1] == [2, 2, 2, 2]  # [open, close, low, high]: both in NOW's hour
    assert data["categories"]["items"] == [{"name": "Appeal or complaint", "value": 2}]
    assert 'role="img" aria-label="Contacts by channel, 2 in all' in page
    assert "<script" not in page.split('id="dashboard-live"')[1]  # htmx would drop it from a swap


# ------------------------------------------------------------------------------------------------ live

def test_the_live_part_answers_204_until_something_changes_then_the_fragment(app, make_user, submit):
    submit(GUANGZHOU_TOWN)
    client = staff_client(app, make_user, "4401")
    url = poller(client.get("/dashboard/?region=440106&period=today").get_data(as_text=True))
    assert url.startswith("/dashboard/live?") and "region=440106" in url and "period=today" in url
    unchanged = client.get(url)
    assert unchanged.status_code == 204 and unchanged.data == b""
    submit(GUANGZHOU_TOWN)
    changed = client.get(url)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200
    assert "<html" not in body and "dash-head" not in body  # the live part only
    assert body.count('id="dashboard-live"') == 1 and 'hx-trigger="every 1s, dashboard-refresh"' in body
    assert 'hx-swap="outerHTML"' in body and 'hx-target="#dashboard-live"' in body
    assert kpi(body, "Requests") == "2"
    assert 'id="dashboard-updated" hx-swap-oob="innerHTML"' in body  # the announced time, outside the swap
    following = poller(body)
    assert following != url and "region=440106" in following and "period=today" in following
    assert client.get(following).status_code == 204


def test_a_logged_call_changes_the_version_too(app, make_user):
    client = staff_client(app, make_user, "4401")
    url = poller(client.get("/dashboard/").get_data(as_text=True))
    with app.app_context():
        staff = db.session.get(User, make_user(Role.STAFF, region="4401").id)
        ledger.log(staff, ledger.Contact(channel=Channel.HOTLINE, kind=Kind.CONSULTATION, category="labour.wages",
                                         summary="来电询问工资", answer="已解答"), token="call-1", now=NOW)
        db.session.remove()
    response = client.get(url)
    assert response.status_code == 200 and kpi(response.get_data(as_text=True), "Contacts") == "1"


def test_an_htmx_request_for_the_page_gets_the_live_part_only(app, make_user, submit):
    submit(GUANGZHOU_TOWN)
    client = staff_client(app, make_user, "4401")
    response = client.get("/dashboard/?path=appeal", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="dashboard-live"' in body
    assert "HX-Request" in response.headers["Vary"]
    assert "path=appeal" in poller(body)


# ----------------------------------------------------------------------------------------- bad periods

@pytest.mark.parametrize(("query", "message"), [
    ("period=range&first=2026-11-10&last=2026-11-01", "The last day must not be before the first."),
    ("period=range&first=someday&last=2026-11-01", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=2026-11-01", "Enter both dates, for example 2026-11-01."),
    ("period=range&first=2026-11-01&last=2026-12-31", "Choose dates between 2000-01-01 and today."),
    ("period=range&first=2024-01-01&last=2026-11-01", "Choose at most 366 days."),
    ("period=yearly", "Choose today, this month or a range of dates."),
])
def test_a_period_that_is_not_one_gets_the_form_back_with_the_reason(app, make_user, query, message):
    client = staff_client(app, make_user, "4401")
    for path in ("/dashboard/", "/dashboard/public"):
        response = client.get(f"{path}?{query}")
        body = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert message in html.unescape(body) and "Traceback" not in body
        assert 'type="date"' in body and "dashboard-live" not in body
    assert client.get(f"/dashboard/export.csv?{query}").status_code == 400
    assert client.get(f"/dashboard/live?{query}").status_code == 400


def test_periods_today_month_and_a_range(app, make_user, submit):
    submit(GUANGZHOU_TOWN)
    client = staff_client(app, make_user, "4401")
    today = client.get("/dashboard/?period=today").get_data(as_text=True)
    assert "Today, 11/20/26" in today and kpi(today, "Requests") == "1"
    month = client.get("/dashboard/").get_data(as_text=True)
    assert "This month, 11/1/26 – 11/20/26" in month
    assert 'aria-current="page">This month' in month
    earlier = client.get("/dashboard/?period=range&first=2026-10-01&last=2026-10-31").get_data(as_text=True)
    assert "Chosen dates, 10/1/26 – 10/31/26" in earlier and kpi(earlier, "Requests") == "0"
    kline = earlier[earlier.index('id="kline-title"'):earlier.index('id="words-title"')]
    assert '<p class="dash-note">No contacts in these days.</p>' in kline  # an empty K-line says why
    assert '<p class="dash-note">No contacts in these days.</p>' not in month
    assert 'value="2026-10-01"' in earlier and 'value="2026-10-31"' in earlier


# -------------------------------------------------------------------------------------------- public

def test_the_public_screen_masks_small_counts_and_shows_nothing_personal(app, submit):
    submit(GUANGZHOU_TOWN, 3, description=f"{SECRET}，联系电话{PHONE}。", anonymous=False, contact_name=NAME,
           contact_phone=PHONE, employer="甲乙丙公司")
    client = app.test_client()
    client.get("/?lang=en")
    response = client.get("/dashboard/public")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert kpi(page, "Requests") == "<5" and kpi(page, "Contacts", "today") == "<5"
    assert kpi(page, "Resolved") == "—" and kpi_base(page, "Resolved") == ""  # over fewer than 5 cases: not shown
    assert kpi(page, "Wages recovered") == "—"
    assert kpi(page, "Vouchers redeemed", "services") == "<5" and kpi(page, "Members saved", "services") == "—"
    assert "Overdue now" not in page
    for secret in (SECRET, PHONE, NAME, "甲乙丙公司", "骑手", "奖金", "44-20261120"):
        assert secret not in page, secret
    data = re.search(r"data-charts='([^']*)'", page).group(1)
    assert '"value": 3' not in data and '"value": null' in data  # nothing drawn that the tables hide
    live = client.get(poller(page).replace("v=", "v=stale"))
    assert live.status_code == 200 and SECRET not in live.get_data(as_text=True)


def test_the_public_screen_shows_counts_of_five_and_more_and_any_region(app, submit):
    submit(GUANGZHOU_TOWN, 6)
    submit(SHENZHEN_DISTRICT, 1)
    client = app.test_client()
    client.get("/?lang=en")
    province = html.unescape(client.get("/dashboard/public").get_data(as_text=True))
    assert kpi(province, "Requests") == "7" and kpi(province, "Resolved") == "0.0%"
    assert kpi_base(province, "Resolved") == "0 of 7 answered or closed"
    ranking = re.search(r'<ol class="dash-ranking">(.*?)</ol>', province, re.S).group(1)
    # 7 requests, 6 of them Guangzhou's, would give Shenzhen's 1 away: the 6 is withheld, and the page says why
    withheld = r'<span class="num"><span class="count-withheld">withheld</span>'
    assert re.search(r"Guangzhou</a>.*?" + withheld, ranking, re.S)
    assert re.search(r"Shenzhen</a>.*?<span class=\"num\"><5</span>", ranking, re.S)
    assert "Some counts of 5 or more are withheld" in province
    assert 'href="/dashboard/public?region=4401"' in province
    city = html.unescape(client.get("/dashboard/public?region=4403").get_data(as_text=True))
    assert "Worker services in Shenzhen" in city and kpi(city, "Requests") == "<5"
    assert client.get("/dashboard/public?region=12").status_code == 404  # not a region of this portal
    assert "dashboard/export.csv" not in province


def test_the_public_live_part_is_rate_limited(app):
    client = app.test_client()
    url = poller(client.get("/dashboard/public").get_data(as_text=True))
    statuses = [client.get(url).status_code for _ in range(121)]
    assert statuses[:120] == [204] * 120 and statuses[120] == 429


# ------------------------------------------------------------------------------------------------ CSV

def test_the_csv_has_a_line_per_day_and_a_total_that_match_the_screen(app, make_user, submit):
    submit(GUANGZHOU_TOWN, 2)
    submit(SHENZHEN_DISTRICT)  # another city's: not in Guangzhou's file
    client = staff_client(app, make_user, "4401")
    page = client.get("/dashboard/?period=range&first=2026-11-18&last=2026-11-20").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/dashboard/export\.csv[^"]*)"', page).group(1))
    assert "period=range" in link and "first=2026-11-18" in link and "last=2026-11-20" in link
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=dashboard-4401-2026-11-18-2026-11-20.csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, days, total = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "date" and "created" in header and "contacts_total" in header
    assert [d[0] for d in days] == ["2026-11-18", "2026-11-19", "2026-11-20"] and total[0] == "total"
    created = header.index("created")
    assert [d[created] for d in days] == ["0", "0", "2"] and total[created] == "2"
    assert total[header.index("contacts_web")] == "2" == kpi(page, "Contacts")
    month = client.get("/dashboard/export.csv")
    assert month.status_code == 200 and "dashboard-4401-2026-11-01-2026-11-20.csv" in month.headers[
        "Content-Disposition"]


# ------------------------------------------------------------------------------------------ drill-down

def test_the_category_breakdown_drills_down_with_plain_links_that_keep_the_other_arguments(app, make_user,
                                                                                             submit):
    submit(GUANGZHOU_TOWN, 3)
    submit(GUANGZHOU_TOWN, kind=Kind.CONSULTATION, category="security.insurance", amount_owed_fen=None,
           employer="", workers_affected=None)
    client = staff_client(app, make_user, "4401")
    top = html.unescape(client.get("/dashboard/?region=440106&period=today").get_data(as_text=True))
    link = re.search(r'<a href="([^"]*path=appeal)" hx-get="\1" hx-target="#dashboard-live"', top)
    assert link and "region=440106" in link.group(1) and "period=today" in link.group(1)
    assert re.search(r"Appeal or complaint</a></th>\s*<td class=\"num\">3</td><td class=\"num\">75\.0%</td>", top)
    kinds = client.get(link.group(1)).get_data(as_text=True)
    assert '<span aria-current="location">Appeal or complaint</span>' in kinds
    group = re.search(r'href="([^"]*path=appeal/labour)"', html.unescape(kinds))
    assert group and "Labour relations" in kinds and "Social security" not in kinds
    categories = html.unescape(client.get(group.group(1)).get_data(as_text=True))
    assert '<span aria-current="location">Labour relations</span>' in categories
    assert re.search(r"<th scope=\"row\">Unpaid wages</th>\s*<td class=\"num\">3</td><td class=\"num\">100\.0%</td>",
                     categories)  # the last level: no link further down
    assert "path=appeal/labour/" not in categories
    top_link = re.search(r'<a href="([^"]*)"[^>]*>All requests</a>', categories).group(1)
    assert "region=440106" in top_link and "period=today" in top_link and "path" not in top_link
    assert "path=appeal%2Flabour" in poller(categories) or "path=appeal/labour" in poller(categories)
