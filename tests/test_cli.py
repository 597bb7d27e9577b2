"""The command-line tools, run as an operator would."""

import pytest

from portal.extensions import db
from portal.models import Station, Status, Ticket, User


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


def test_regions_import_is_idempotent_and_refuses_unknown_provinces(runner):
    result = runner.invoke(args=["regions", "import", "--province", "44"])
    assert result.exit_code == 0 and "0 created, 0 updated, 1901 unchanged" in result.output
    result = runner.invoke(args=["regions", "import", "--province", "99"])
    assert result.exit_code != 0 and "99" in result.output


def test_demo_load_prints_the_logins_and_is_idempotent(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo-Portal-2026" in first.output and "19900000003" in first.output and "[created]" in first.output
    assert "tickets: 13 created" in first.output and "query code" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "[created]" not in second.output and second.output.count("[exists]") == 8
    assert "tickets:" not in second.output
    with app.app_context():
        assert db.session.query(User).count() == 8
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
