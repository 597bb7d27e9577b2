"""Every deadline rule, in Chinese working days as the 12351 hotlines count them: the reply period of each
kind of request, the deadline it gives, working days left, due soon and overdue. Nothing else computes one.

A period of N working days starts the day after receipt (dates in Asia/Shanghai) and ends at the end of
its Nth working day. Statutory holidays and the weekend make-up workdays (调休) come from chinesecalendar,
which the State Council's schedule updates every November. For a year it has no data for yet, Monday to
Friday are counted, the deadline is marked provisional, and a warning is logged — never an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from portal.models import Kind

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_EXTENDED_DAYS = 30  # the longest a case may run, when the level above approves an extension
# Working days allowed for a reply, counted from the day after receipt.
REPLY_DAYS = {Kind.CONSULTATION: 5, Kind.SUGGESTION: 5, Kind.HELP: 20, Kind.APPEAL: 20}
URGENT_DAYS = 0  # the same day
_warned_years: set[int] = set()


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # UTC; the first instant past the last working day (midnight in Shanghai)
    provisional: bool  # counted Monday–Friday because the holiday schedule was not yet published

    @property
    def last_day(self) -> date:
        return (self.due_at.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> tuple[bool, bool]:
    """(working, provisional) for a Shanghai calendar date. Cached: chinesecalendar scans its tables on every
    call, and a page of deadlines asks about the same few weeks again and again."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no holiday schedule for %s yet: counting Monday-Friday (upgrade chinesecalendar)",
                        day.year)
        return day.weekday() < 5, True


def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def end_of(day: date) -> datetime:
    """The first moment after `day` in Shanghai (its midnight), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The `days`-th working day after `start` (0 → `start` itself), and whether it is provisional."""
    day, provisional, counted = start, False, 0
    while counted < days:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        provisional |= guessed
        counted += working
    return day, provisional


def deadline(received_at: datetime, working_days: int) -> Deadline:
    """The end of the `working_days`-th working day after the day of receipt; 0 means the same day."""
    last, provisional = add_working_days(local_date(received_at), working_days)
    return Deadline(end_of(last), provisional)


def reply_days(kind: Kind, urgent: bool = False) -> int:
    """The reply period of a kind of request; an urgent one is answered the same day."""
    return URGENT_DAYS if urgent else REPLY_DAYS[kind]


def reply_deadline(kind: Kind, urgent: bool, start: datetime) -> tuple[int, Deadline]:
    """(period, deadline) of a request received, or reopened, at `start`."""
    period = reply_days(kind, urgent)
    return period, deadline(start, period)


def of(ticket) -> Deadline:
    """A ticket's deadline as stored with it."""
    return Deadline(ticket.due_at, ticket.due_provisional)


def deadline_flags(ticket, now: datetime) -> tuple[bool, bool]:
    """(due soon, overdue) for an open ticket awaiting its answer; closed and answered ones are neither (a case
    answered in time may stay open for weeks, awaiting its rating or a promised action)."""
    if not ticket.is_open or ticket.replied_at is not None:
        return False, False
    due = of(ticket)
    return is_due_soon(due, now), is_overdue(due, now)


def last_day(due_at: datetime) -> date:
    """The last working day of a deadline, as people say it ("by December 18")."""
    return Deadline(due_at, False).last_day


def working_days_left(due: Deadline, now: datetime) -> int:
    """Working days from today to the last day, counting the last day and not today; negative when late."""
    today, last = local_date(now), due.last_day
    if today <= last:
        return sum(is_working_day(last - timedelta(days=n))[0] for n in range((last - today).days))
    return -sum(is_working_day(today - timedelta(days=n))[0] for n in range((today - last).days))


def past_due(due_at, now: datetime):
    """Overdue: `now` has reached the deadline. The same expression on a datetime or a column (a SQL filter)."""
    return due_at <= now


def answered_in_time(replied_at, due_at):
    """Answered before the deadline; on datetimes or columns alike (the dashboard's rollups and their rebuild)."""
    return replied_at < due_at


def is_overdue(due: Deadline, now: datetime) -> bool:
    return past_due(due.due_at, now)


def is_due_soon(due: Deadline, now: datetime) -> bool:
    """At most one working day left, and not yet overdue."""
    if is_overdue(due, now):
        return False
    today, last, left = local_date(now), due.last_day, 0
    while last > today and left <= 1:  # count down from the last day; two working days are enough to say no
        left += is_working_day(last)[0]
        last -= timedelta(days=1)
    return left <= 1
