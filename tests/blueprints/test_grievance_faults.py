"""Faults: a process killed in the middle of a submission, and many posts of one form at once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import Channel, Counter, Ticket
from portal.services import tickets
from tests.conftest import grievance_form
from tests.factories import NOW, wages

ROOT = Path(__file__).resolve().parents[2]

# Runs in a child process: submit, and stop for ever inside the transaction, after the ticket row is written.
CHILD = textwrap.dedent("""
    import json, sys, time
    from portal import create_app
    from portal.extensions import db
    from portal.services import tickets
    from tests.conftest import config_for
    from tests.factories import NOW, wages

    app = create_app(config_for(sys.argv[1], UPLOAD_DIR=sys.argv[2]))
    marker = sys.argv[3]
    from portal.services.tickets import submission
    real_attach = submission.attach

    def attach_then_hang(ticket, event, stored, now):
        real_attach(ticket, event, stored, now)
        db.session.flush()  # the ticket, its event and the number counter are written, not committed
        open(marker, "w").write("inside")
        time.sleep(60)

    submission.attach = attach_then_hang
    with app.app_context():
        tickets.submit(wages(), token="killed-mid-way", now=NOW)
""")


def test_a_worker_killed_mid_submission_leaves_no_partial_ticket(app, database_url, tmp_path):
    marker = tmp_path / "inside"
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(tmp_path / "up"), str(marker)],
                             cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "the child ended before reaching the transaction"
            assert time.monotonic() < deadline, "the child never reached the transaction"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # no cleanup, no rollback: as a crash or an OOM kill
    finally:
        child.wait(timeout=10)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert db.session.scalar(select(func.count()).select_from(Counter)) == 0
        db.session.remove()
    with app.app_context():  # and the database is not left locked: the next submission goes through
        assert tickets.submit(wages(), token="after-the-crash", now=NOW).ticket.number.endswith("-0001")
        db.session.remove()


def test_twenty_simultaneous_posts_of_one_form_make_one_ticket(app, client):
    data = grievance_form(client)
    cookie = client.get_cookie("session").value
    barrier, answers = threading.Barrier(20), []

    def tap():
        other = app.test_client()
        other.set_cookie("session", cookie)  # the same browser, tapping again and again
        barrier.wait(timeout=30)
        response = other.post("/grievances/", data=data)
        found = re.search(r"44-\d{8}-\d{4}", response.get_data(as_text=True))
        answers.append((response.status_code, found.group(0) if found else None))

    threads = [threading.Thread(target=tap) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 20 and {status for status, _ in answers} == {200}
    numbers = {number for _, number in answers}
    assert len(numbers) == 1 and None not in numbers, json.dumps(answers)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
        db.session.remove()


def test_a_poster_form_sent_while_the_database_is_busy_comes_back_as_the_poster_form(app, client, monkeypatch):
    """The fault's re-render runs the view with its own arguments: the form opened from a QR poster comes back with
    its place and its action, and the resend is recorded once, from the poster."""
    monkeypatch.setitem(app.config, "DB_LOCK_TIMEOUT_S", 0.3)
    data = grievance_form(client, "/g/440106006", description="扫码填写的")
    with app.app_context():
        engine = db.engine
    holder = engine.connect().execution_options(sqlite_begin="IMMEDIATE")  # its own connection, as another process
    holder.begin()
    if engine.dialect.name != "sqlite":
        holder.execute(text("LOCK TABLE ticket IN EXCLUSIVE MODE"))
    try:
        response = client.post("/g/440106006", data=data)
    finally:
        holder.rollback()
        holder.close()
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == str(app.config["RETRY_AFTER_S"])
    assert 'action="/g/440106006"' in html and '<option value="440106006" selected>石牌街道</option>' in html
    assert "扫码填写的</textarea>" in html and "您的请求没有被记录" in html
    assert client.post("/g/440106006", data=data).status_code == 200
    assert client.post("/g/440106006", data=data).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Ticket.channel)).all() == [Channel.QR]
        db.session.remove()
