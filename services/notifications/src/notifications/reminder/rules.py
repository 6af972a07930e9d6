"""When reminders fall due: pure date arithmetic on the shared working-day calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.calendar import DEFAULT_CALENDAR, WorkingDayCalendar

LONDON = ZoneInfo("Europe/London")


def working_days_before(day: date, n: int, *, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> date:
    """The Nth working day before ``day`` (``day`` itself never counts)."""
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def meeting_reminder_due(starts_at: datetime, *, working_days: int, at: time,
                         calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> datetime:
    """``at`` (London time) on the Nth working day before the meeting day, in UTC."""
    meeting_day = starts_at.astimezone(LONDON).date()
    day = working_days_before(meeting_day, working_days, calendar=calendar)
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def before_day(day: date, *, working_days: int, at: time, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> datetime:
    """``at`` (London time) on the Nth working day before ``day``, in UTC: certificate due, deadline at risk."""
    return datetime.combine(working_days_before(day, working_days, calendar=calendar), at, tzinfo=LONDON).astimezone(UTC)


def end_of(day: date) -> datetime:
    """Midnight (London) at the end of ``day``: a reminder about that day is pointless after it."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON).astimezone(UTC)


def certificate_due_on(trigger: date, *, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> date:
    """R6, R10, R15: the certificate is due within 3 working days of the trigger (T3)."""
    return calendar.add_working_days(trigger, 3)
