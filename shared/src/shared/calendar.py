"""Working days and calendar arithmetic for the statutory time limits (RULES.md T1-T5).

England and Wales bank holidays come from the maintained ``holidays`` library
(Good Friday, Easter Monday and substitute days included); deployments can add
or remove days as data (e.g. a newly announced bank holiday) without a release.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cached_property

import holidays
from dateutil.relativedelta import relativedelta


class WorkingDayCalendar:
    def __init__(self, *, extra_holidays: Iterable[date] = (), not_holidays: Iterable[date] = ()) -> None:
        self._extra = frozenset(extra_holidays)
        self._removed = frozenset(not_holidays)

    @cached_property
    def _bank_holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("GB", subdiv="ENG", years=range(2014, 2041))

    def is_bank_holiday(self, day: date) -> bool:
        if day in self._removed:
            return False
        return day in self._extra or day in self._bank_holidays

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, excluding Christmas Day, Good Friday and bank holidays."""
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def add_working_days(self, trigger: date, n: int) -> date:
        """T3: the Nth working day after the trigger day (the trigger never counts)."""
        day, counted = trigger, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def clear_working_days_between(self, notice: date, event: date) -> int:
        """T4: working days strictly between the notice day and the event day."""
        return sum(
            1 for offset in range(1, (event - notice).days) if self.is_working_day(notice + timedelta(days=offset))
        )

    def latest_working_day_on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def next_working_day_on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def add_days(trigger: date, n: int) -> date:
    """T1: within N calendar days = trigger + N (the trigger day is not counted)."""
    return trigger + timedelta(days=n)


def add_months(trigger: date, n: int) -> date:
    """T2: corresponding date N calendar months on, clamped to the month's last day."""
    return trigger + relativedelta(months=n)


DEFAULT_CALENDAR = WorkingDayCalendar()
