"""When meeting reminders fall due: 2 working days before the meeting day, at 09:00 London time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.reminder.rules import before_day, certificate_due_on, end_of, meeting_reminder_due, working_days_before

LONDON = ZoneInfo("Europe/London")
NINE = time(9, 0)


def due(meeting: datetime) -> datetime:
    return meeting_reminder_due(meeting, working_days=2, at=NINE)


def test_a_wednesday_meeting_is_reminded_on_monday_at_nine_gmt():
    assert due(datetime(2026, 12, 2, 10, 0, tzinfo=LONDON)) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_summer_reminder_is_at_nine_british_summer_time():
    assert due(datetime(2026, 7, 8, 10, 0, tzinfo=LONDON)) == datetime(2026, 7, 6, 8, 0, tzinfo=UTC)


def test_a_monday_meeting_is_reminded_the_thursday_before():
    assert due(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)).date() == date(2026, 12, 3)


def test_easter_is_skipped():
    # Tue 30 Mar 2027: Easter Monday 29 Mar and Good Friday 26 Mar are not working days.
    assert due(datetime(2027, 3, 30, 10, 0, tzinfo=LONDON)) == datetime(2027, 3, 24, 9, 0, tzinfo=UTC)


def test_the_new_year_bank_holiday_is_skipped_but_late_december_counts():
    # Mon 4 Jan 2027: Fri 1 Jan is a bank holiday; 30 and 31 Dec are working days (docs/rules.md, working days).
    assert due(datetime(2027, 1, 4, 10, 0, tzinfo=LONDON)).date() == date(2026, 12, 30)


def test_the_meeting_day_is_taken_in_london_not_utc():
    # 00:30 BST on Wed 8 Jul is still Tue 7 Jul in UTC.
    assert due(datetime(2026, 7, 7, 23, 30, tzinfo=UTC)).date() == date(2026, 7, 6)


@pytest.mark.parametrize(("day", "n", "expected"), [
    (date(2026, 12, 2), 1, date(2026, 12, 1)),
    (date(2026, 12, 5), 1, date(2026, 12, 4)),  # from a Saturday
    (date(2026, 12, 29), 1, date(2026, 12, 24)),  # over Christmas and the substitute 28 Dec
    (date(2026, 12, 2), 0, date(2026, 12, 2)),
])
def test_working_days_before_never_counts_the_day_itself_or_a_holiday(day, n, expected):
    assert working_days_before(day, n) == expected


# Certificate due (R6, R10, R15) and deadline at risk (R8, R9).


def test_a_certificate_is_due_three_working_days_after_the_meeting_concluded():
    assert certificate_due_on(date(2026, 12, 10)) == date(2026, 12, 15)  # Thursday: Fri, Mon, Tue


def test_the_certificate_reminder_is_the_working_day_before_it_is_due_at_nine():
    assert before_day(date(2026, 12, 15), working_days=1, at=NINE) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def test_a_certificate_due_on_a_monday_is_reminded_on_the_friday():
    assert before_day(date(2026, 12, 7), working_days=1, at=NINE).date() == date(2026, 12, 4)


def test_the_deadline_at_risk_alert_is_five_working_days_before_mediate_by():
    # Sun 20 Dec 2026: Fri 18, Thu 17, Wed 16, Tue 15, Mon 14.
    assert before_day(date(2026, 12, 20), working_days=5, at=NINE) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def test_a_reminder_about_a_day_expires_at_the_end_of_that_london_day():
    assert end_of(date(2026, 7, 6)) == datetime(2026, 7, 6, 23, 0, tzinfo=UTC)
