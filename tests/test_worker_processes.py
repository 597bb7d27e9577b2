"""`flask worker` processes under stress, against the SMS stand-in over real HTTP: two racing over 1,000 messages,
one killed with SIGKILL in the middle of a send and another taking over its claimed rows, one stopped with SIGTERM.
The workers use the test's database (the SQLite file, or PostgreSQL's URL) and read the real clock; the rows are
queued at NOW, in their past. Each worker signs its messages with its own name, so the stand-in tells who sent what.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import select

from portal.extensions import db
from portal.models import MessageDay, MessageState, OutboxMessage
from portal.services.messages import outbox, texts
from tests import factories
from tests.factories import NOW
from tests.live import REPO
from tests.standin import sms_standin

SECRET = "worker-processes-secret"
PHONES = [f"1391234{n:04d}" for n in range(10)]
TEMPLATES = {locale: {name: f"SMS_{n}" for n, name in enumerate(texts.PARAMS, 1)} for locale in texts.LOCALES}
BOUND_S = 60


def queue(app, count: int, phones: list[str] = PHONES) -> list[str]:
    """`count` news messages about one ticket, to `phones` in turn, queued at NOW in one commit: their ids."""
    with app.app_context():
        made = factories.ticket()
        rows = [outbox.enqueue("accepted", phones[n % len(phones)], texts.LOCALES[n % 2], NOW, ticket_id=made.id)
                for n in range(count)]
        db.session.commit()
        ids = [row.message_id for row in rows]
        db.session.remove()
    return ids


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "accepted")))
        db.session.expunge_all()
        db.session.remove()
    return found


def states(app) -> Counter:
    return Counter(row.state for row in rows(app))


def settled(app, count: int, timeout_s: float = BOUND_S) -> Counter:
    """The rows' states once all `count` are SENT (or the timeout passed)."""
    deadline = time.monotonic() + timeout_s
    while (found := states(app))[MessageState.SENT] < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


class Workers:
    """`flask worker` processes started with the test's settings, each logging to a file of its own."""

    def __init__(self, app, standin, tmp_path, **settings: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
        self.env = env | {
            "FLASK_APP": "wsgi", "PORTAL_ENVIRONMENT": "development", "PORTAL_DATABASE_URL": app.config["DATABASE_URL"],
            "PORTAL_SECRET_KEY": app.config["SECRET_KEY"], "PORTAL_MESSAGES_KEY": app.config["MESSAGES_KEY"],
            "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"), "PORTAL_PUBLIC_URL": "https://portal.example.cn",
            "PORTAL_SMS_PROVIDER": "aliyun", "PORTAL_SMS_ENDPOINT": standin.url,
            "PORTAL_SMS_ALIYUN_ACCESS_KEY_ID": "worker-key", "PORTAL_SMS_ALIYUN_ACCESS_KEY_SECRET": standin.secret,
            "PORTAL_SMS_TEMPLATES": json.dumps(TEMPLATES), "PORTAL_QUIET_HOURS": "[0, 0]",
            "PORTAL_MESSAGES_PER_DAY": "100", "PORTAL_WORKER_POLL_S": "0.1", "PORTAL_SMS_TIMEOUT_S": "5"} | settings
        self.tmp_path, self.started = tmp_path, {}

    def start(self, name: str) -> subprocess.Popen:
        with (self.tmp_path / f"{name}.log").open("wb") as log:  # a file, not a pipe: a full pipe stalls it
            self.started[name] = subprocess.Popen(
                [sys.executable, "-m", "flask", "worker"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env=self.env | {"PORTAL_SMS_SIGN_NAME": name})
        return self.started[name]

    def logs(self) -> str:
        return "\n".join(f"--- {name}:\n{(self.tmp_path / f'{name}.log').read_text(errors='replace')[-3000:]}"
                         for name in self.started)

    def alive(self) -> list[str]:
        return [name for name, process in self.started.items() if process.poll() is None]

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@contextmanager
def workers(app, standin, tmp_path, **settings: str):
    running = Workers(app, standin, tmp_path, **settings)
    try:
        yield running
    finally:
        running.stop_all()


def senders(standin) -> Counter:
    return Counter(attempt.sign_name for attempt in standin.delivered.values())


def test_two_workers_racing_over_a_thousand_messages_send_each_exactly_once(app, tmp_path):
    ids = queue(app, 1000)  # ten numbers, a hundred messages each: both workers give each its first at once
    with sms_standin("aliyun", secret=SECRET) as standin, workers(app, standin, tmp_path) as running:
        started = time.monotonic()
        running.start("A")
        running.start("B")
        found = settled(app, 1000)
        elapsed = time.monotonic() - started
        assert found == {MessageState.SENT: 1000}, (found, running.logs())
        assert running.alive() == ["A", "B"], running.logs()
    assert elapsed < BOUND_S
    assert set(standin.delivered) == set(ids) and standin.duplicates == [] and len(standin.attempts) == 1000
    assert min(senders(standin).values()) > 0, senders(standin)  # both took part
    assert all(attempt.signature_ok for attempt in standin.attempts)
    for row in rows(app):
        assert row.attempts == 1 and row.reference == standin.delivered[row.message_id].reference, row.message_id
        assert row.phone_cipher is None  # the number is erased once sent
    with app.app_context():  # the daily cap counted each message once: each number reached its 100, none is held
        assert sorted(db.session.scalars(select(MessageDay.n))) == [100] * len(PHONES)
        db.session.remove()


def test_a_worker_killed_while_it_sends_loses_nothing_and_another_takes_over_its_claim(app, tmp_path):
    ids = queue(app, 400)
    # A short lease, so the rows the killed worker had claimed are free again in 4 s instead of 2 minutes (a worker
    # sends a claimed message only while its lease outlasts a whole send: the timeout is 2 s here).
    with sms_standin("aliyun", secret=SECRET, hang_s=1.0) as standin, \
            workers(app, standin, tmp_path, PORTAL_MESSAGES_LEASE_S="4", PORTAL_SMS_TIMEOUT_S="2") as running:
        killed = running.start("A")
        assert standin.wait_for(100, timeout_s=BOUND_S), running.logs()
        standin.mode = "hang"  # its next request is answered (and delivered) a second late
        deadline = time.monotonic() + 10
        while not any(a.mode == "hang" for a in standin.attempts[-5:]) and time.monotonic() < deadline:
            time.sleep(0.005)
        killed.send_signal(signal.SIGKILL)  # in the middle of that send, before it can record it
        assert killed.wait(timeout=10) == -signal.SIGKILL
        standin.mode = "ok"
        taken = Counter(row.state for row in rows(app))[MessageState.SENDING]
        assert 1 <= taken <= outbox.BATCH  # its claim, left behind
        running.start("B")
        found = settled(app, 400)
        assert found == {MessageState.SENT: 400}, (found, running.logs())
    assert set(standin.delivered) == set(ids)  # none lost, each delivered once at the provider
    assert len(standin.attempts) == len(ids) + len(standin.duplicates)  # no other id asked twice
    by_a = {mid for mid, attempt in standin.delivered.items() if attempt.sign_name == "A"}
    assert len(by_a) >= 100 and len(standin.delivered) - len(by_a) > 0
    final = rows(app)
    retaken = {row.message_id for row in final if row.attempts == 2}
    assert {row.attempts for row in final} <= {1, 2} and len(retaken) == taken  # sent again: only A's claim
    # The one A was sending when it died reached the provider, and B's try was answered as the first one.
    assert 1 <= len(set(standin.duplicates)) <= outbox.BATCH and set(standin.duplicates) <= retaken
    for row in final:
        assert row.reference == standin.delivered[row.message_id].reference, row.message_id


def test_a_worker_stopped_with_sigterm_finishes_what_it_holds_and_exits_0(app, tmp_path):
    queue(app, 400)
    with sms_standin("aliyun", secret=SECRET) as standin, workers(app, standin, tmp_path) as running:
        worker = running.start("A")
        assert standin.wait_for(50, timeout_s=BOUND_S), running.logs()
        at_signal = len(standin.delivered)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, running.logs()
    found = states(app)
    assert MessageState.SENDING not in found, found  # nothing left claimed
    assert found[MessageState.SENT] == len(standin.delivered) and standin.duplicates == []  # all it sent recorded
    assert found[MessageState.QUEUED] > 0  # it stopped, it did not drain the queue first
    assert len(standin.delivered) - at_signal <= 3  # the message in hand; the rest of its batch went back
