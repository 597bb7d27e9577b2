"""Working-day deadlines against the State Council's 2026 holiday schedule."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.services import sla


def shanghai(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=sla.SHANGHAI)


@pytest.mark.parametrize(("received", "days", "last_day"), [
    (shanghai(2026, 11, 20), 5, date(2026, 11, 27)),   # Fri → the next five weekdays
    (shanghai(2026, 11, 20), 20, date(2026, 12, 18)),
    (shanghai(2026, 9, 30), 5, date(2026, 10, 13)),    # National Day Oct 1–7 off, Sat Oct 10 worked
    (shanghai(2026, 9, 18), 2, date(2026, 9, 21)),     # Sun Sep 20 is a make-up workday
    (shanghai(2026, 2, 13), 5, date(2026, 2, 27)),     # Sat Feb 14 worked, Spring Festival Feb 15–23 off
    (shanghai(2026, 4, 30), 3, date(2026, 5, 8)),      # Labour Day May 1–5 off
    (shanghai(2026, 11, 20), 0, date(2026, 11, 20)),   # urgent: the same day
    (shanghai(2026, 10, 3), 0, date(2026, 10, 3)),     # urgent on a holiday is still the same day
])
def test_deadlines_count_working_days_from_the_day_after_receipt(received, days, last_day):
    due = sla.deadline(received.astimezone(UTC), days)
    assert due.last_day == last_day and not due.provisional
    midnight_after = datetime(last_day.year, last_day.month, last_day.day, tzinfo=sla.SHANGHAI) + timedelta(days=1)
    assert due.due_at == midnight_after.astimezone(UTC)


def test_the_day_of_receipt_is_the_shanghai_date():
    late_evening_utc = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # 07:30 on Friday the 20th in Shanghai
    assert sla.deadline(late_evening_utc, 1).last_day == date(2026, 11, 23)


def test_past_the_published_schedule_weekdays_count_and_the_deadline_is_provisional(caplog):
    sla._warned_years.discard(2027)
    sla.is_working_day.cache_clear()  # so the 2027 look-ups happen (and warn) again
    with caplog.at_level(logging.WARNING, logger="portal.services.sla"):
        due = sla.deadline(shanghai(2026, 12, 28), 20)
    # Dec 29–31 are working days in 2026; from Jan 1, 2027 Monday–Friday are counted.
    assert due.last_day == date(2027, 1, 25) and due.provisional
    assert "2027" in caplog.text
    assert not sla.deadline(shanghai(2026, 12, 28), 3).provisional  # ends Dec 31: fully known


def test_working_days_left_due_soon_and_overdue():
    due = sla.deadline(shanghai(2026, 9, 30), 5)  # last day Tue Oct 13
    assert sla.working_days_left(due, shanghai(2026, 10, 1)) == 5
    assert sla.working_days_left(due, shanghai(2026, 10, 9)) == 3  # Sat 10th, Mon 12th, Tue 13th
    assert not sla.is_due_soon(due, shanghai(2026, 10, 9))
    assert sla.is_due_soon(due, shanghai(2026, 10, 12)) and not sla.is_overdue(due, shanghai(2026, 10, 12))
    assert sla.is_due_soon(due, shanghai(2026, 10, 13, 23, 59))
    assert sla.is_overdue(due, shanghai(2026, 10, 14, 0, 0))
    assert sla.working_days_left(due, shanghai(2026, 10, 16)) == -3


def test_working_day_lookup():
    assert sla.is_working_day(date(2026, 10, 10)) == (True, False)   # Saturday, make-up workday
    assert sla.is_working_day(date(2026, 10, 5)) == (False, False)   # Monday, National Day
    assert sla.is_working_day(date(2027, 3, 1)) == (True, True)      # provisional
