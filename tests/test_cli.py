"""The command-line tools, run as an operator would."""

import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import MembershipStatus, Station, Status, Ticket, User
from tests.live import REPO, free_port

BIN = Path(sys.executable).parent  # .venv/bin, where README's commands live


def test_users_create_for_every_role(app, runner):
    for n, role in enumerate(["member", "station_manager", "merchant", "staff", "admin"]):
        args = ["users", "create", "--role", role, "--phone", f"138 0000 000{n}", "--password", "Correct-Horse-9",
                "--name", f"用户{n}"]
        if role == "staff":
            args += ["--region", "440106"]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert f"{role} 1380000000{n}" in result.output
    with app.app_context():
        staff = db.session.query(User).filter_by(role="staff").one()
        assert staff.region.name == "天河区" and staff.password_hash.startswith("scrypt:")


@pytest.mark.parametrize(("extra", "message"), [
    (["--role", "staff", "--phone", "13800000001", "--password", "Correct-Horse-9"], "region"),
    (["--role", "staff", "--phone", "13800000001", "--password", "Correct-Horse-9", "--region", "9999"], "9999"),
    (["--role", "member", "--phone", "12345", "--password", "Correct-Horse-9"], "11"),
    (["--role", "member", "--phone", "13800000001", "--password", "short"], "8"),
    (["--role", "king", "--phone", "13800000001", "--password", "Correct-Horse-9"], "king"),
])
def test_users_create_explains_bad_input(runner, extra, message):
    result = runner.invoke(args=["users", "create", *extra])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def _on_roster(app, number: str, name: str) -> None:
    from portal.services import members
    from tests.conftest import NOW

    roster = f"number,name,union,occupation,member_since,valid_until\n{number},{name},,delivery,,\n".encode()
    with app.app_context():
        assert members.import_roster(members.read_roster(roster), None, NOW).ok
        db.session.remove()


def _membership_of(app, phone: str):
    from portal.services import members, users

    with app.app_context():
        membership = members.of_user(users.find_user(phone))
        db.session.remove()
    return membership


def test_users_create_a_member_with_the_membership_on_the_roster(app, runner):
    _on_roster(app, "GH900002", "王五")
    result = runner.invoke(args=["users", "create", "--role", "member", "--phone", "139 1234 0002", "--password",
                                 "Correct-Horse-9", "--name", "王 五", "--membership", "gh900002"])
    assert result.exit_code == 0, result.output
    assert "member 13912340002" in result.output and "membership GH900002 王五: active" in result.output
    membership = _membership_of(app, "13912340002")
    assert membership.number == "GH900002" and membership.status is MembershipStatus.ACTIVE


def test_users_create_a_member_whose_number_the_roster_lacks_waits_for_approval(app, runner):
    result = runner.invoke(args=["users", "create", "--role", "member", "--phone", "13912340003", "--password",
                                 "Correct-Horse-9", "--name", "赵六", "--membership", "GH900003"])
    assert result.exit_code == 0, result.output
    assert "GH900003 赵六: pending" in result.output and "/benefits/admin/members" in result.output
    assert _membership_of(app, "13912340003").status is MembershipStatus.PENDING


@pytest.mark.parametrize(("extra", "message", "code"), [
    (["--role", "member", "--name", "李四", "--membership", "GH900002"], "name", 1),  # the roster says 王五
    (["--role", "member", "--name", "王五", "--membership", "G!"], "number", 1),
    (["--role", "member", "--membership", "GH900002"], "name", 1),
    (["--role", "staff", "--region", "440106", "--name", "王五", "--membership", "GH900002"], "--role member", 2),
    (["--role", "member", "--region", "440106", "--name", "王五", "--membership", "GH900002"], "--region", 2),
])
def test_users_create_a_member_refuses_what_the_sign_up_refuses(app, runner, extra, message, code):
    _on_roster(app, "GH900002", "王五")
    result = runner.invoke(args=["users", "create", "--phone", "13912340004", "--password", "Correct-Horse-9",
                                 *extra])
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(User).count() == 0
        db.session.remove()


def test_users_create_a_member_twice_with_one_number_is_refused(runner, app):
    _on_roster(app, "GH900002", "王五")
    args = ["users", "create", "--role", "member", "--password", "Correct-Horse-9", "--name", "王五",
            "--membership", "GH900002"]
    assert runner.invoke(args=[*args, "--phone", "13912340005"]).exit_code == 0
    again = runner.invoke(args=[*args, "--phone", "13912340006"])
    assert again.exit_code == 1 and "number:" in again.output


def test_users_create_a_member_without_a_membership_says_what_it_lacks(runner):
    result = runner.invoke(args=["users", "create", "--role", "member", "--phone", "13912340007", "--password",
                                 "Correct-Horse-9"])
    assert result.exit_code == 0 and "--membership NUMBER" in result.output


def test_regions_import_is_idempotent_and_refuses_unknown_provinces(runner):
    result = runner.invoke(args=["regions", "import", "--province", "44"])
    assert result.exit_code == 0 and "0 created, 0 updated, 1901 unchanged" in result.output
    result = runner.invoke(args=["regions", "import", "--province", "99"])
    assert result.exit_code != 0 and "99" in result.output


def test_demo_load_prints_the_logins_and_is_idempotent(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo-Portal-2026" in first.output and "19900000003" in first.output and "[created]" in first.output
    assert "tickets: 434 created" in first.output and "query code" in first.output
    assert "benefits: 12 merchants" in first.output and "19900000102" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "[created]" not in second.output and second.output.count("[exists]") == 8
    assert "tickets:" not in second.output and "benefits:" not in second.output
    with app.app_context():
        assert db.session.query(User).count() == 9  # the logins and a member's sign-up waiting for approval
        assert {t.status for t in db.session.query(Ticket)} == set(Status)  # every state of the workflow
        db.session.remove()


def test_demo_load_is_refused_in_production(make_app):
    app = make_app(ENVIRONMENT="production", TRUSTED_HOSTS=["portal.example.cn"])
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output


def test_stations_manager_gives_and_takes_a_station(app, runner, make_user, make_station):
    manager, member = make_user("station_manager"), make_user("member")
    station_id = make_station()
    with app.app_context():
        code = db.session.get(Station, station_id).code
    given = runner.invoke(args=["stations", "manager", code, manager.phone])
    assert given.exit_code == 0 and manager.phone in given.output
    refused = runner.invoke(args=["stations", "manager", code, member.phone])
    assert refused.exit_code == 1 and "站长" in refused.output
    assert runner.invoke(args=["stations", "manager", "NOPE99", manager.phone]).exit_code == 1
    taken = runner.invoke(args=["stations", "manager", code, manager.phone, "--remove"])
    assert taken.exit_code == 0 and manager.phone not in taken.output


# ------------------------------------------------------------------------ merchants, campaigns, vouchers

def _member(app, phone: str = "13912340001") -> str:
    """An active member (on the roster, then signed up), for issuing vouchers to."""
    from portal.services import members
    from tests.conftest import NOW, PASSWORD

    roster = "number,name,union,occupation,member_since,valid_until\nGH900001,李四,,other,,\n".encode()
    with app.app_context():
        members.import_roster(members.read_roster(roster), None, NOW)
        members.sign_up(phone=phone, password=PASSWORD, number="GH900001", name="李四", now=NOW)
        db.session.remove()
    return phone


def test_merchants_create_prints_the_id_and_a_working_key_once(app, runner):
    from portal.models import Merchant
    from portal.services import merchants

    result = runner.invoke(args=["merchants", "create", "老王牛肉面", "--lat", "23.1353", "--lng", "113.334",
                                 "--category", "catering", "--address", "天河路1号", "--phone", "020-12345678"])
    assert result.exit_code == 0, result.output
    merchant_id = int(result.output.split()[1])
    key = result.output.strip().rsplit(" ", 1)[-1]
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        assert (merchant.name, merchant.address, merchant.category.value) == ("老王牛肉面", "天河路1号", "catering")
        assert merchants.by_key(key).id == merchant_id and key not in merchant.api_key_hash
        db.session.remove()
    renewed = runner.invoke(args=["merchants", "new-key", str(merchant_id)])
    assert renewed.exit_code == 0
    new_key = renewed.output.strip().rsplit(" ", 1)[-1]
    with app.app_context():
        assert merchants.by_key(key) is None and merchants.by_key(new_key).id == merchant_id
        db.session.remove()


@pytest.mark.parametrize(("extra", "message", "code"), [
    (["--lat", "23.1", "--lng", "113.3", "--category", "bakery"], "bakery", 2),
    (["--lat", "230", "--lng", "113.3", "--category", "fuel"], "lat", 1),
    (["--lat", "north", "--lng", "113.3", "--category", "fuel"], "north", 2),
    (["--lng", "113.3", "--category", "fuel"], "--lat", 2),
])
def test_merchants_create_explains_bad_input(app, runner, extra, message, code):
    from portal.models import Merchant

    result = runner.invoke(args=["merchants", "create", "加油站", *extra])
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(Merchant).count() == 0
        db.session.remove()


def test_merchants_staff_adds_an_account_or_explains_why_not(app, runner, make_user):
    from portal.models import MerchantStaff

    merchant_id = runner.invoke(args=["merchants", "create", "药房", "--lat", "23.1", "--lng", "113.3",
                                      "--category", "health"]).output.split()[1]
    created = runner.invoke(args=["merchants", "staff", merchant_id, "139 0000 1111", "--password", "Correct-Horse-9"])
    assert created.exit_code == 0 and "13900001111 works for merchant" in created.output
    cashier = make_user("merchant")
    assert runner.invoke(args=["merchants", "staff", merchant_id, cashier.phone]).exit_code == 0
    member = make_user("member")
    refused = runner.invoke(args=["merchants", "staff", merchant_id, member.phone])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    missing = runner.invoke(args=["merchants", "staff", "99999", cashier.phone])
    assert missing.exit_code == 1 and "No active merchant has the id 99999" in missing.output
    assert runner.invoke(args=["merchants", "new-key", "99999"]).exit_code == 1
    with app.app_context():
        assert db.session.query(MerchantStaff).count() == 2
        db.session.remove()


def test_campaigns_create_is_open_to_every_member_for_30_days_by_default(app, runner, clock):
    from portal.models import Campaign, LimitPeriod

    before = clock.now()
    result = runner.invoke(args=["campaigns", "create", "清凉补贴", "--amount-fen", "199", "--stock", "1000"])
    assert result.exit_code == 0, result.output
    assert "1000 vouchers of 199 fen" in result.output and "every member" in result.output
    with app.app_context():
        campaign = db.session.query(Campaign).one()
        assert campaign.tag is None and campaign.category is None and campaign.merchant_id is None
        assert campaign.per_member == 1 and campaign.limit_period is LimitPeriod.CAMPAIGN
        assert before <= campaign.starts_at <= clock.now() and campaign.budget_fen == 199_000
        assert (campaign.ends_at - campaign.starts_at).days == 30
        db.session.remove()


def test_campaigns_create_takes_every_option(app, runner):
    from portal.models import Campaign, LimitPeriod, MerchantCategory

    merchant_id = runner.invoke(args=["merchants", "create", "便利店", "--lat", "23.1", "--lng", "113.3",
                                      "--category", "shopping"]).output.split()[1]
    result = runner.invoke(args=["campaigns", "create", "外卖骑手每日券", "--amount-fen", "500", "--stock", "100",
                                 "--per-member", "1", "--daily", "--tag", "delivery", "--category", "shopping",
                                 "--merchant-id", merchant_id, "--starts", "2026-07-01", "--ends",
                                 "2026-09-01T00:00+08:00", "--voucher-days", "1", "--budget-fen", "20000",
                                 "--min-spend-fen", "1000"])
    assert result.exit_code == 0, result.output
    assert "from 2026-07-01 00:00 to 2026-09-01 00:00" in result.output and "delivery" in result.output
    with app.app_context():
        campaign = db.session.query(Campaign).one()
        assert campaign.limit_period is LimitPeriod.DAY and campaign.tag == "delivery"
        assert campaign.category is MerchantCategory.SHOPPING and campaign.merchant_id == int(merchant_id)
        assert campaign.stock == 40 and campaign.budget_fen == 20000  # the budget pays for 40 vouchers
        assert campaign.voucher_days == 1 and campaign.min_spend_fen == 1000
        db.session.remove()


@pytest.mark.parametrize(("extra", "message", "code"), [
    (["--amount-fen", "0", "--stock", "10"], "amount", 1),
    (["--amount-fen", "100", "--stock", "-5"], "stock", 1),
    (["--amount-fen", "1.5", "--stock", "10"], "1.5", 2),
    (["--amount-fen", "100", "--stock", "10", "--starts", "next monday"], "next monday", 2),
    (["--amount-fen", "100", "--stock", "10", "--starts", "2026-07-02", "--ends", "2026-07-01"], "ends_at", 1),
    (["--amount-fen", "100", "--stock", "10", "--tag", "pilot"], "pilot", 2),
    (["--amount-fen", "100", "--stock", "10", "--merchant-id", "99999"], "99999", 1),
    (["--amount-fen", "100", "--stock", "10", "--budget-fen", "5000"], "budget", 1),
    (["--stock", "10"], "--amount-fen", 2),
])
def test_campaigns_create_explains_bad_input(app, runner, extra, message, code):
    from portal.models import Campaign

    result = runner.invoke(args=["campaigns", "create", "测试活动", *extra])
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(Campaign).count() == 0
        db.session.remove()


def test_campaigns_create_refuses_a_name_twice(runner):
    args = ["campaigns", "create", "清凉补贴", "--amount-fen", "199", "--stock", "10"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "name" in again.output


def test_vouchers_issue_prints_each_code(app, runner):
    from portal.models import Voucher
    from portal.services import benefits

    phone = _member(app)
    assert runner.invoke(args=["campaigns", "create", "清凉补贴", "--amount-fen", "199", "--stock", "5"]).exit_code == 0
    result = runner.invoke(args=["vouchers", "issue", "--phone", "139-1234-0001", "--campaign", "清凉补贴",
                                 "--count", "3"])
    assert result.exit_code == 0, result.output
    codes = result.output.split()[-3:]
    with app.app_context():
        stored = {v.code: v for v in db.session.query(Voucher)}
        assert sorted(stored) == sorted(codes)
        assert all(v.membership.user.phone == phone and v.campaign.issued == 3 for v in stored.values())
        assert all(len(c) == benefits.CODE_LENGTH for c in codes)
        db.session.remove()
    over = runner.invoke(args=["vouchers", "issue", "--phone", phone, "--campaign", "清凉补贴", "--count", "3"])
    assert over.exit_code == 1 and "2" in over.output  # two are left: nothing is issued


@pytest.mark.parametrize(("extra", "message"), [
    (["--phone", "13912340001", "--campaign", "没有这个活动"], "campaign"),
    (["--phone", "13912349999", "--campaign", "清凉补贴"], "phone"),
    (["--phone", "12345", "--campaign", "清凉补贴"], "phone"),
    (["--phone", "13912340001", "--campaign", "清凉补贴", "--count", "0"], "count"),
    (["--phone", "13912340001", "--campaign", "清凉补贴", "--count", "101"], "count"),
])
def test_vouchers_issue_explains_bad_input(app, runner, extra, message):
    from portal.models import Voucher

    _member(app)
    assert runner.invoke(args=["campaigns", "create", "清凉补贴", "--amount-fen", "199", "--stock", "5"]).exit_code == 0
    result = runner.invoke(args=["vouchers", "issue", *extra])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert message in result.output or "活动" in result.output, result.output
    with app.app_context():
        assert db.session.query(Voucher).count() == 0
        db.session.remove()


# ------------------------------------------------------------------- starting: the settings, the checkout

def _environment(tmp_path, **settings) -> dict:
    """The process environment without this shell's PORTAL_* and FLASK_* variables, with `settings` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    return env | {"PORTAL_SECRET_KEY": secrets.token_hex(32),
                  "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'refused.sqlite3'}"} | settings


@pytest.mark.parametrize(("settings", "named"), [
    # '[]' also overrides TRUSTED_HOSTS that this checkout's instance/config.py may set
    ({"PORTAL_ENVIRONMENT": "production", "PORTAL_TRUSTED_HOSTS": "[]"}, "PORTAL_TRUSTED_HOSTS"),
    ({"PORTAL_ENVIRONMENT": "staging"}, "PORTAL_ENVIRONMENT"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_DATABASE_URL": "no such database"}, "PORTAL_DATABASE_URL"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_PROXY_HOPS": "one"}, "PORTAL_PROXY_HOPS"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_SESSION_IDLE_TIMEOUT": "2h"}, "PORTAL_SESSION_IDLE_TIMEOUT"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_SECOND_FACTOR_PENDING_SECONDS": "10m"},
     "PORTAL_SECOND_FACTOR_PENDING_SECONDS"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_DB_LOCK_TIMEOUT_S": "0"}, "PORTAL_DB_LOCK_TIMEOUT_S"),
    ({"PORTAL_ENVIRONMENT": "development", "PORTAL_RETRY_AFTER_S": "-1"}, "PORTAL_RETRY_AFTER_S"),
])
def test_a_refused_setting_is_one_line_naming_it_not_a_traceback(tmp_path, settings, named):
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "routes"], cwd=REPO, capture_output=True,
                            text=True, env=_environment(tmp_path, **settings), timeout=60)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_to_start_with_one_line_as_make_run_starts_it(tmp_path):
    env = _environment(tmp_path, PORTAL_ENVIRONMENT="production", PORTAL_TRUSTED_HOSTS="[]")
    result = subprocess.run([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{free_port()}", "--workers", "2",
                             "--preload", "--no-control-socket", "wsgi:app"],
                            cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("PORTAL_TRUSTED_HOSTS") == 1, result.stderr


def test_make_records_the_development_checkout_once_and_never_changes_it(tmp_path):
    make = ["make", "--no-print-directory", "-s", "-f", str(REPO / "Makefile"), "development"]
    config = tmp_path / "instance" / "config.py"
    first = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
    assert "ENVIRONMENT" in first.stdout and runpy.run_path(str(config))["ENVIRONMENT"] == "development"
    written = config.read_text()
    assert subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, check=True).stdout == ""
    assert config.read_text() == written
    for own in ('ENVIRONMENT = "production"\nTRUSTED_HOSTS = ["portal.example.cn"]\n', 'PROXY_HOPS = 1\n'):
        config.write_text(own)
        again = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
        assert config.read_text() == own and "does not say" in again.stdout


def test_users_reset_2fa_removes_a_second_factor_and_records_who_did_it(app, runner, make_user, clock):
    from portal.models import SecondFactorChange, SecondFactorEvent
    from portal.services import twofactor

    admin, staff, member = make_user("admin"), make_user("staff"), make_user("member")
    refused = runner.invoke(args=["users", "reset-2fa", staff.phone, "--by", member.phone])
    assert refused.exit_code == 1 and "administrator" in refused.output
    unknown = runner.invoke(args=["users", "reset-2fa", "13999999999", "--by", admin.phone])
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    clock.advance(minutes=5)
    result = runner.invoke(args=["users", "reset-2fa", staff.phone, "--by", admin.phone])
    assert result.exit_code == 0, result.output
    assert f"second factor of user {staff.id}" in result.output and f"reset by user {admin.id}" in result.output
    with app.app_context():
        event = db.session.query(SecondFactorEvent).filter_by(change=SecondFactorChange.RESET).one()
        assert (event.user_id, event.actor_id, event.at) == (staff.id, admin.id, clock.now())
        assert not twofactor.enrolled(db.session.get(User, staff.id))
        db.session.remove()
    again = runner.invoke(args=["users", "reset-2fa", staff.phone, "--by", admin.phone])
    assert again.exit_code == 1 and "没有可重置的第二重验证" in again.output
    assert runner.invoke(args=["users", "reset-2fa", "--help"]).exit_code == 0


def test_demo_load_prints_the_staff_s_authenticator_keys_and_they_work(app, runner, clock):
    import pyotp

    from portal.demo import DEMO_SECOND_FACTORS
    from tests.conftest import login

    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    for phone, secret in DEMO_SECOND_FACTORS.items():
        assert f"{phone}  key {secret}  otpauth://totp/" in result.output
    assert "19900000101  key" not in result.output  # members choose for themselves
    client = app.test_client()
    token = re.search(r"hx-headers='([^']+)'", client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"phone": "19900000003", "password": "Demo-Portal-2026",
                                           "csrf_token": json.loads(token)["X-CSRFToken"]})
    assert response.headers["Location"] == "/login/code"
    code_page = client.get("/login/code").get_data(as_text=True)
    csrf = json.loads(re.search(r"hx-headers='([^']+)'", code_page).group(1))["X-CSRFToken"]
    code = pyotp.TOTP(DEMO_SECOND_FACTORS["19900000003"]).at(clock.now())
    assert client.post("/login/code", data={"code": code, "csrf_token": csrf}).headers["Location"] == "/staff/"
    assert login(app.test_client(), "19900000101", "Demo-Portal-2026").status_code == 303  # the member: no code
