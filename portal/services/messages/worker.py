"""The background worker (`flask worker`, started by `make run` beside gunicorn): delivers the outbox and runs the
supervision sweep every minute, so no cron line is needed. Any number may run at once, on one host or several:
claims never hand one message to two workers, and the sweep inserts each notice once (ON CONFLICT DO NOTHING)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from portal.database import begin_write
from portal.exceptions import DatabaseUnavailable
from portal.extensions import db
from portal.services import supervision
from portal.services.messages import outbox, subscriptions
from portal.services.messages.providers.base import Provider

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(minutes=1)


def housekeeping(now: datetime) -> None:
    """Once a minute: supervision notices, numbers of long-closed cases deleted, old outbox traces erased."""
    supervision.sweep(now)
    begin_write()
    forgotten = subscriptions.forget_closed(now)
    outbox.tidy(now)
    db.session.commit()
    if forgotten:
        log.info("numbers deleted for cases closed over 30 days ago: %d", forgotten)


class Worker:
    """The loop, stoppable from a signal or a test (`stop()`), never dying on a database fault. Without a provider
    (messages off) it only sweeps; anything queued before waits for one."""

    def __init__(self, provider: Provider | None, clock: Callable[[], datetime], poll_s: float = 1.0):
        self.provider, self.clock, self.poll_s = provider, clock, poll_s
        self._stopping = threading.Event()
        self._last_sweep: datetime | None = None

    def stop(self, *_args) -> None:
        self._stopping.set()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def step(self) -> int:
        """One round: the sweep when a minute has passed, then one batch of messages. Returns messages handled."""
        now = self.clock()
        if self._last_sweep is None or now - self._last_sweep >= SWEEP_EVERY:
            housekeeping(now)
            self._last_sweep = now
        if self.provider is None:
            return 0
        result = outbox.deliver(self.provider, self.clock, stopping=self._stopping.is_set)
        if result.failures:
            log.warning("messages not sent this round: %s", "; ".join(sorted(set(result.failures)))[:500])
        return result.handled

    def run(self, once: bool = False) -> None:
        """Until stopped (or, with once, until nothing is due)."""
        log.info("worker started: provider %s", self.provider.name if self.provider else "none")
        while not self._stopping.is_set():
            try:
                handled = self.step()
            except DatabaseUnavailable as fault:
                db.session.rollback()
                log.warning("database unavailable, trying again shortly: %s", fault.reason)
                handled = 0
            except Exception:  # a bug must not stop the messages of everyone else: logged, and tried again later
                db.session.rollback()
                log.exception("worker round failed; trying again in %s s", self.poll_s * 10)
                self._stopping.wait(self.poll_s * 10)
                handled = 0
            finally:
                db.session.remove()
            if once and handled == 0:
                break
            if handled == 0:
                self._stopping.wait(self.poll_s)
        log.info("worker stopped")
