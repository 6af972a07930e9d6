"""Working days and calendar arithmetic for the statutory time limits (docs/rules.md T1-T5).

England and Wales bank holidays come from the maintained ``holidays`` library
(Good Friday, Easter Monday and substitute days included); deployments can add
or remove days as data (e.g. a newly announced bank holiday) without a release.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml
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


def load_calendar(path: str | None = None) -> WorkingDayCalendar:
    """The calendar every service uses, with overrides kept as data.

    ``SEND_CALENDAR_OVERRIDES`` may name a YAML file such as::

        extra_holidays: [2027-06-07]   # e.g. a newly proclaimed bank holiday
        not_holidays: []               # e.g. a bank holiday moved away

    so a proclamation can be applied by configuration, without a release.
    """
    source = path or os.environ.get("SEND_CALENDAR_OVERRIDES")
    if not source:
        return WorkingDayCalendar()
    raw = yaml.safe_load(Path(source).read_text()) or {}
    unknown = set(raw) - {"extra_holidays", "not_holidays"}
    if unknown:
        raise ValueError(f"{source}: unknown keys {sorted(unknown)}")
    return WorkingDayCalendar(
        extra_holidays=[date.fromisoformat(str(d)) for d in raw.get("extra_holidays") or []],
        not_holidays=[date.fromisoformat(str(d)) for d in raw.get("not_holidays") or []],
    )


DEFAULT_CALENDAR = load_calendar()


APPEAL_RECEIPT_TIME = time(17, 0)  # R17.6: the Tribunal must receive the appeal by 5pm (HESC rule 12(1))


@dataclass(frozen=True)
class AppealDeadline:
    """R17: the last day the Tribunal may receive an appeal, by 5pm Europe/London."""

    day: date
    unmoved: date
    reason: str

    @property
    def receive_by(self) -> datetime:
        return datetime.combine(self.day, APPEAL_RECEIPT_TIME, tzinfo=ZoneInfo("Europe/London"))


def appeal_deadline(*, notice_sent_on: date, certificate_issued_on: date | None,
                    calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> AppealDeadline:
    """R17 (HESC rules 12 and 20(1)(c)).

    A = notice sent + 2 months; B = certificate issued + 1 month; D = the later
    (D = A without a certificate, e.g. an exempt case). D between 25 Dec and
    1 Jan moves to the first working day after 1 Jan; D in August to the first
    working day after 31 Aug; otherwise a D that is not a working day moves to
    the next working day.
    """
    a = add_months(notice_sent_on, 2)
    d, reason = a, "2 months after the decision notice was sent"
    if certificate_issued_on is not None:
        b = add_months(certificate_issued_on, 1)
        if b > a:
            d, reason = b, "1 month after the mediation certificate was issued"
    if (d.month == 12 and d.day >= 25) or (d.month == 1 and d.day == 1):
        new_year = date(d.year + 1 if d.month == 12 else d.year, 1, 1)
        return AppealDeadline(calendar.next_working_day_on_or_after(new_year + timedelta(days=1)), d,
                              reason + "; moved out of 25 Dec-1 Jan (HESC 12(3)(a))")
    if d.month == 8:
        return AppealDeadline(calendar.next_working_day_on_or_after(date(d.year, 9, 1)), d,
                              reason + "; moved out of August (HESC 12(3)(a))")
    moved = calendar.next_working_day_on_or_after(d)
    if moved != d:
        reason += "; moved to the next working day (HESC 12(2))"
    return AppealDeadline(moved, d, reason)
