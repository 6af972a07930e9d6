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


def say(day: date) -> str:
    """A day as explained deadlines write it: ``Sun 15 Mar 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


@dataclass(frozen=True)
class Reckoned:
    """A statutory date and the steps that reached it (explained deadlines)."""

    day: date
    steps: tuple[str, ...]


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

    def add_working_days_explained(self, trigger: date, n: int, *, label: str) -> Reckoned:
        """T3 as ``add_working_days``, with the steps; the bank holidays passed over are named."""
        day = self.add_working_days(trigger, n)
        steps = [f"{label} {say(trigger)} + {n} working days = {say(day)}"]
        skipped = [trigger + timedelta(days=i) for i in range(1, (day - trigger).days)]
        holidays_passed = [d for d in skipped if d.weekday() < 5 and self.is_bank_holiday(d)]
        if holidays_passed:
            steps.append("not counting the bank holiday" + ("s " if len(holidays_passed) > 1 else " ")
                         + ", ".join(say(d) for d in holidays_passed))
        return Reckoned(day, tuple(steps))

    def working_days_before(self, event: date, n: int) -> date:
        """The Nth working day before ``event`` (the event day never counts)."""
        day, counted = event, 0
        while counted < n:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def latest_notice_day(self, event: date, clear_days: int) -> Reckoned:
        """T4: the last day notice can be given with ``clear_days`` clear working days before ``event``
        (neither the notice day nor the event day counts)."""
        first = self.working_days_before(event, clear_days)
        notice = first - timedelta(days=1)
        assert self.clear_working_days_between(notice, event) >= clear_days
        return Reckoned(notice, (f"{clear_days} clear working days before {say(event)}: {say(first)} to "
                                 f"{say(self.working_days_before(event, 1))}", f"notice by {say(notice)}"))

    def latest_working_day_on_or_before_explained(self, day: date) -> Reckoned:
        moved = self.latest_working_day_on_or_before(day)
        if moved == day:
            return Reckoned(day, (f"{say(day)} is a working day",))
        return Reckoned(moved, (f"{say(day)} is not a working day -> the working day before, {say(moved)}",))

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


def add_days_explained(trigger: date, n: int, *, label: str) -> Reckoned:
    """T1 as ``add_days``, with the step."""
    day = add_days(trigger, n)
    return Reckoned(day, (f"{label} {say(trigger)} + {n} days = {say(day)}",))


def add_months_explained(trigger: date, n: int, *, label: str) -> Reckoned:
    """T2 as ``add_months``, with the steps (and the month-end clamp when there is no corresponding day)."""
    day = add_months(trigger, n)
    unit = "month" if n == 1 else "months"
    steps = [f"{label} {say(trigger)} + {n} {unit} = {say(day)}"]
    if day.day != trigger.day:
        steps.append(f"{day:%B} has no day {trigger.day}: its last day")
    return Reckoned(day, tuple(steps))


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
    #: How the day was reached, e.g. ("notice sent Sun 15 Mar 2026 + 2 months = ...", ..., "by 5pm").
    steps: tuple[str, ...] = ()

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
    a = add_months_explained(notice_sent_on, 2, label="notice sent")
    d, reason, steps = a.day, "2 months after the decision notice was sent", list(a.steps)
    if certificate_issued_on is not None:
        b = add_months_explained(certificate_issued_on, 1, label="certificate issued")
        steps += b.steps
        if b.day > a.day:
            d, reason = b.day, "1 month after the mediation certificate was issued"
        steps.append(f"the later is {say(d)}")
    by_5pm = "received by the Tribunal by 5pm (HESC 12(1))"
    if (d.month == 12 and d.day >= 25) or (d.month == 1 and d.day == 1):
        new_year = date(d.year + 1 if d.month == 12 else d.year, 1, 1)
        moved = calendar.next_working_day_on_or_after(new_year + timedelta(days=1))
        steps += [f"{say(d)} falls between 25 Dec and 1 Jan -> the first working day after 1 Jan, {say(moved)} "
                  "(HESC 12(3)(a))", by_5pm]
        return AppealDeadline(moved, d, reason + "; moved out of 25 Dec-1 Jan (HESC 12(3)(a))", tuple(steps))
    if d.month == 8:
        moved = calendar.next_working_day_on_or_after(date(d.year, 9, 1))
        steps += [f"{say(d)} falls in August -> the first working day after 31 Aug, {say(moved)} (HESC 12(3)(a))",
                  by_5pm]
        return AppealDeadline(moved, d, reason + "; moved out of August (HESC 12(3)(a))", tuple(steps))
    moved = calendar.next_working_day_on_or_after(d)
    if moved != d:
        reason += "; moved to the next working day (HESC 12(2))"
        steps.append(f"{say(d)} is not a working day -> the next working day, {say(moved)} (HESC 12(2))")
    steps.append(by_5pm)
    return AppealDeadline(moved, d, reason, tuple(steps))
