"""Races against a real server (gunicorn, 4 processes × 4 threads) with real concurrent clients, each on its
own connection: "once" and "never oversold" must hold in the database, not in one process's memory.

Run on SQLite by default and on PostgreSQL with PORTAL_TEST_DATABASE_URL (scripts/pg.sh)."""

from __future__ import annotations

import json
import re
from collections import Counter

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Campaign, Redemption, Voucher
from tests.live import Client, at_once

TOKEN = re.compile(r'name="token" value="([^"]+)"')  # a claim form's one-time token


def count_rows(app, model, *where) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return n


def test_fifty_tills_redeem_one_voucher_at_once_one_wins(app, live_portal, make_merchant, make_member,
                                                         make_campaign, issue):
    merchants = [make_merchant() for _ in range(5)]  # five restaurants' tills, ten requests each
    code = issue(make_member(), make_campaign())[0]

    def redeem(n, barrier):
        till = Client(live_portal, merchants[n % 5].key)
        conn = till.connect()  # connected before the start, so the requests leave together
        barrier.wait()
        status, _, text = till.send("POST", f"/api/v1/vouchers/{code}/redeem", body={"bill_fen": 2000}, conn=conn)
        return status, json.loads(text)

    answers = at_once(50, redeem)
    assert Counter(status for status, _ in answers) == {201: 1, 409: 49}, Counter(s for s, _ in answers)
    assert all("already used on" in body["error"]["message"] for status, body in answers if status == 409)
    assert count_rows(app, Redemption) == 1
    assert count_rows(app, Redemption, Redemption.undone_at.is_(None)) == 1


def test_the_same_idempotency_key_ten_times_at_once_makes_one_redemption(app, live_portal, make_merchant,
                                                                         make_member, make_campaign, issue):
    merchant = make_merchant()
    code = issue(make_member(), make_campaign())[0]

    def retry(_, barrier):
        till = Client(live_portal, merchant.key)
        conn = till.connect()
        barrier.wait()
        status, headers, text = till.send("POST", f"/api/v1/vouchers/{code}/redeem", body={"bill_fen": 2000},
                                          headers={"Idempotency-Key": "till-1-sale-42"}, conn=conn)
        return status, headers, json.loads(text)

    answers = at_once(10, retry)
    assert sorted(status for status, _, _ in answers) == [200] * 9 + [201], [b for _, _, b in answers]
    assert len({body["id"] for _, _, body in answers}) == 1
    assert all(h.get("Idempotent-Replayed") == "true" for status, h, _ in answers if status == 200)
    assert count_rows(app, Redemption) == 1


RESENDS = 5


def test_a_thousand_claims_on_a_stock_of_a_hundred_issue_exactly_a_hundred(app, live_portal, make_member,
                                                                           make_campaign):
    campaign = make_campaign(amount_fen=199, stock=100, per_member=100)
    members = [make_member() for _ in range(50)]
    browsers = [Client(live_portal) for _ in members]
    for browser, member in zip(browsers, members, strict=True):
        browser.login(member.phone)
    csrf = [browser.csrf("/member/campaigns") for browser in browsers]

    def claims(n: int, barrier) -> list[int]:
        browser, statuses = browsers[n], []
        # Each claim form's one-time token, from the page as the member's browser gets it: the server signs
        # and dates it by its own clock, which a token made in this process need not share.
        tokens = [TOKEN.search(browser.send("GET", "/member/campaigns")[2]).group(1) for _ in range(20)]
        barrier.wait()
        for token in tokens:
            # A claim that waited past DB_LOCK_TIMEOUT_S for SQLite's write lock (50 writers at once on two cores)
            # answers 503 "not recorded, send again": the member sends the same form, token and all, as promised.
            for _ in range(RESENDS):
                status, _, _ = browser.send("POST", f"/member/campaigns/{campaign.id}/claim",
                                            form={"csrf_token": csrf[n], "token": token})
                if status != 503:
                    break
            statuses.append(status)
        return statuses

    answers = [status for statuses in at_once(len(members), claims) for status in statuses]
    assert len(answers) == 1000
    assert Counter(answers) == {303: 100, 409: 900}, Counter(answers)
    assert count_rows(app, Voucher) == 100
    with app.app_context():
        assert db.session.get(Campaign, campaign.id).issued == 100
        db.session.remove()
