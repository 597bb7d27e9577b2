"""Every endpoint declares who may use it (portal.access), and the declarations behave as declared.

The table below is the review point: adding a route without a declaration, or with one that is not
listed here, fails the suite.
"""

from portal.access import API_KEY, MERCHANT_KEY, PUBLIC, SIGNED_IN
from portal.models import Role
from portal.services import merchants
from tests.conftest import NOW, csrf_token, login

EXPECTED = {
    "pages.home": PUBLIC,
    "pages.healthz": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": SIGNED_IN,
    "accounts.profile": SIGNED_IN,
    # The second step of a sign-in: answers only for the half-done sign-in this browser holds (else "sign in again").
    "accounts.second_step": PUBLIC,
    "accounts.first_enrolment": PUBLIC,
    # An account's own sign-in settings; each change asks for the password (and a current code) again.
    "accounts.second_factor": SIGNED_IN,
    "accounts.enrol": SIGNED_IN,
    "accounts.new_recovery_codes": SIGNED_IN,
    "accounts.turn_off": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    "accounts.change_phone": SIGNED_IN,
    "accounts.resets": frozenset({Role.ADMIN}),
    "regions.picker": PUBLIC,
    "grievances.index": PUBLIC,
    "grievances.suggest": PUBLIC,
    "tracking.index": PUBLIC,
    # Public, but each answers only for a ticket this browser proved it may follow (404 otherwise).
    "tracking.detail": PUBLIC,
    "tracking.add_message": PUBLIC,
    "tracking.withdraw": PUBLIC,
    "tracking.rate": PUBLIC,
    "tracking.rating_page": PUBLIC,
    "tracking.texts": PUBLIC,
    "tracking.confirm_texts": PUBLIC,
    "tracking.stop_texts": PUBLIC,
    # A text message's signed link stands for the number and code (404 when altered, expired or for no ticket).
    "tracking.from_message": PUBLIC,
    "tracking.stop_from_message": PUBLIC,
    # Answers the same whether or not the number is known; the message goes only to that number.
    "tracking.lost": PUBLIC,
    "messages.outbox_page": frozenset({Role.ADMIN}),
    "messages.send_again": frozenset({Role.ADMIN}),
    "stations.index": PUBLIC,
    "stations.detail": PUBLIC,
    "stations.short": PUBLIC,
    "stations.poster": PUBLIC,
    "stations.report": PUBLIC,
    # Managers edit only their own stations (404 for any other); administrators any station.
    "stations.manage": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.edit": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.facility": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.hours": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.closure": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.confirm": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.resolve": frozenset({Role.STATION_MANAGER, Role.ADMIN}),
    "stations.admin": frozenset({Role.ADMIN}),
    "stations.export_csv": frozenset({Role.ADMIN}),
    "stations.export_geojson": frozenset({Role.ADMIN}),
    "benefits.index": frozenset({Role.ADMIN}),
    "benefits.totals_csv": frozenset({Role.ADMIN}),
    "benefits.roster": frozenset({Role.ADMIN}),
    "benefits.pending": frozenset({Role.ADMIN}),
    "benefits.decide": frozenset({Role.ADMIN}),
    "benefits.new_campaign": frozenset({Role.ADMIN}),
    "benefits.stop": frozenset({Role.ADMIN}),
    "merchants.index": PUBLIC,
    "merchants.detail": PUBLIC,
    # The counter: a merchant's staff only, and only their own merchant's redemptions and offers (404 otherwise).
    "merchants.counter": frozenset({Role.MERCHANT}),
    "merchants.checkout": frozenset({Role.MERCHANT}),
    "merchants.amount": frozenset({Role.MERCHANT}),
    "merchants.redeem": frozenset({Role.MERCHANT}),
    "merchants.receipt": frozenset({Role.MERCHANT}),
    "merchants.undo": frozenset({Role.MERCHANT}),
    "merchants.offers": frozenset({Role.MERCHANT}),
    "merchants.end_offer": frozenset({Role.MERCHANT}),
    "api.nearby": PUBLIC,
    "api.station": PUBLIC,
    "api.all_stations": PUBLIC,
    "api.public_stats": PUBLIC,  # aggregate figures only, counts below 5 masked
    "api.openapi": PUBLIC,  # the API's OpenAPI document, for partners
    "api.docs": PUBLIC,  # the same document as a readable page
    "members.index": PUBLIC,
    "members.signup": PUBLIC,
    # A member's own card, wallet and campaigns; a member account without a membership sees why not.
    "members.card": frozenset({Role.MEMBER}),
    "members.code": frozenset({Role.MEMBER}),
    "members.wallet": frozenset({Role.MEMBER}),
    "members.campaigns": frozenset({Role.MEMBER}),
    "members.claim": frozenset({Role.MEMBER}),
    "staff.index": frozenset({Role.STAFF, Role.ADMIN}),
    "staff.ticket": frozenset({Role.STAFF, Role.ADMIN}),
    "staff.attachment": frozenset({Role.STAFF, Role.ADMIN}),
    "staff.act": frozenset({Role.STAFF}),
    "staff.ledger_page": frozenset({Role.STAFF}),
    # The big screen: staff see their jurisdiction and below (404 for any other region), the public only totals.
    "dashboard.index": frozenset({Role.STAFF, Role.ADMIN}),
    "dashboard.live": frozenset({Role.STAFF, Role.ADMIN}),
    "dashboard.export_csv": frozenset({Role.STAFF, Role.ADMIN}),
    "dashboard.public": PUBLIC,
    "dashboard.public_live": PUBLIC,
    "open311.discovery": PUBLIC,
    "open311.services": PUBLIC,
    "open311.service": PUBLIC,
    "open311.requests": PUBLIC,
    "open311.request_detail": PUBLIC,
    "open311.create_request": API_KEY,
    # Merchants' tills, by the merchant's terminal key; another merchant's redemption is a 404.
    "api.verify_member": MERCHANT_KEY,
    "api.redeem_voucher": MERCHANT_KEY,
    "api.redemption": MERCHANT_KEY,
    "api.undo_redemption": MERCHANT_KEY,
}
FRAMEWORK = {"static"}  # Flask's own static files: public by nature
QUERY = {"api.nearby": "?lat=23.13&lng=113.33"}  # what a route needs to answer 200 at all


def test_every_endpoint_declares_who_may_use_it(app):
    declared = {}
    for endpoint, view in app.view_functions.items():
        if endpoint in FRAMEWORK:
            continue
        assert hasattr(view, "access"), f"{endpoint} has no access declaration (@public or @roles(...))"
        declared[endpoint] = view.access
    assert declared == EXPECTED


def _allowed(access, role) -> bool:
    return access == PUBLIC or (role is not None and (access == SIGNED_IN or role in access))


def _get_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.endpoint not in FRAMEWORK and "GET" in r.methods and not r.arguments]


def _url(rule) -> str:
    return rule.rule + QUERY.get(rule.endpoint, "")


def test_anonymous_visitors_reach_public_pages_and_are_sent_to_sign_in_elsewhere(app, client):
    for rule in _get_rules(app):
        response = client.get(_url(rule))
        if EXPECTED[rule.endpoint] == PUBLIC:
            assert response.status_code == 200, rule.rule
        else:
            assert response.status_code == 302, rule.rule
            assert response.headers["Location"].startswith("/login?next="), rule.rule


def test_each_role_reaches_exactly_what_it_is_allowed(app, make_user):
    for role in Role:
        user = make_user(role, region="4401" if role is Role.STAFF else None)
        if role is Role.MERCHANT:  # the counter's pages answer 404 to a merchant account no merchant employs
            with app.app_context():
                merchant, _ = merchants.create(name="测试商户", lat=23.13, lng=113.33, category="catering", now=NOW)
                merchants.add_staff(merchant.id, user.phone, NOW)
        client = app.test_client()
        assert login(client, user.phone).status_code == 303
        for rule in _get_rules(app):
            status = client.get(_url(rule)).status_code
            expected = 200 if _allowed(EXPECTED[rule.endpoint], role) else 403
            assert status == expected, f"{role} GET {rule.rule}: {status}, expected {expected}"


def test_signed_in_posts_refuse_anonymous_visitors(client):
    token = csrf_token(client)
    response = client.post("/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_merchant_key_endpoints_refuse_requests_without_a_valid_key(app, client, login_as):
    """A signed-in session is no substitute for a till's key: these endpoints read no cookie at all."""
    login_as("merchant")
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if EXPECTED.get(rule.endpoint) != MERCHANT_KEY:
            continue
        url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, "1"))
        method = "POST" if "POST" in rule.methods else "GET"
        for headers in ({}, {"X-API-Key": "wspm_wrong"}, {"Authorization": "Bearer wspm_wrong"}):
            response = client.open(url, method=method, json={}, headers=headers)
            assert response.status_code == 401, f"{method} {url} {headers}: {response.status_code}"
            assert response.json["error"]["status"] == 401
