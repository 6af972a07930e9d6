"""Pure mediator rules (docs/rules.md R5, R13): who may be assigned, when they are free, who is chosen. No I/O.

Availability is a set of recurring windows (RFC 5545 RRULEs with a local start and end time, Europe/London)
minus whole-day exceptions (leave, training...). The assignment refuses whoever may not mediate the case,
ranks the rest by fair load and books the first free slot on a working day, by the statutory date if it can.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulebase, rrulestr

from scheduling.mediator.models import EmployerKind, Mediator
from shared.calendar import DEFAULT_CALENDAR, WorkingDayCalendar

LONDON = ZoneInfo("Europe/London")
NOT_INDEPENDENT = frozenset({EmployerKind.local_authority, EmployerKind.icb, EmployerKind.nhs_england})  # R5, R13
MEETING_LENGTH = timedelta(hours=2)
PREFERRED_START = time(10, 0)  # the usual start; another free slot that day otherwise
SLOT_STEP = timedelta(minutes=30)
HORIZON_DAYS = 90  # how far past `earliest` a late slot is searched for
RRULE_ANCHOR = date(2024, 1, 1)  # a Monday: DTSTART of a rule without valid_from
FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})


# --- R13: independence, and the simple chooser the booking used before availability ----------------


def is_independent(mediator: Mediator) -> bool:
    """R13: no one employed by any LA in England; nor an ICB or NHS England (conservative extension)."""
    return mediator.employer_kind not in NOT_INDEPENDENT


def _as_utc(moment: datetime | None) -> datetime:
    """Never booked sorts first; SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- What the case needs, and why a mediator cannot meet it -------------------------------------------


@dataclass(frozen=True)
class Needs:
    provider_id: str
    la_code: str
    school_urn: str | None = None
    languages: tuple[str, ...] = ()  # BCP 47
    accessibility_needs: tuple[str, ...] = ()


def language_matches(needed: str, spoken: str) -> bool:
    """BCP 47 tags match when one is a subtag prefix of the other: ``en`` meets ``en-GB``; ``zh-Hant`` not ``zh-Hans``."""
    a, b = needed.lower().split("-"), spoken.lower().split("-")
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def refusals(mediator: Mediator, needs: Needs) -> list[str]:
    """Why ``mediator`` may not mediate this case; empty when they may. Ids and codes only, never names."""
    reasons = []
    if not is_independent(mediator):
        reasons.append(f"not independent (R13): employed by {mediator.employer_name}")
    if mediator.provider_id != needs.provider_id:
        reasons.append(f"not a mediator of the provider {needs.provider_id}")
    if not mediator.active:
        reasons.append("inactive")
    conflicts = {c.upper() for c in mediator.conflicts}
    if needs.la_code.upper() in conflicts:
        reasons.append(f"conflict of interest with the local authority {needs.la_code}")
    if needs.school_urn and needs.school_urn.upper() in conflicts:
        reasons.append(f"conflict of interest with the school {needs.school_urn}")
    if mediator.areas and needs.la_code.upper() not in {a.upper() for a in mediator.areas}:
        reasons.append(f"does not serve the area {needs.la_code}")
    languages = [t for t in needs.languages if not any(language_matches(t, s) for s in mediator.languages)]
    if languages:
        reasons.append("does not mediate in " + ", ".join(languages))
    skills = {s.lower() for s in mediator.accessibility_skills}
    missing = [n for n in needs.accessibility_needs if n.lower() not in skills]
    if missing:
        reasons.append("lacks the accessibility skill " + ", ".join(missing))
    return reasons


# --- Availability: recurring windows minus exceptions -------------------------------------------------


class Window(Protocol):
    """A recurring window (scheduling.mediator.models.MediatorAvailability, a ``WindowRow``, or anything shaped
    like it); read only."""

    @property
    def rrule(self) -> str: ...
    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_until(self) -> date | None: ...


class Absence(Protocol):
    """A whole-day exception (scheduling.mediator.models.MediatorUnavailability, an ``AbsenceRow``)."""

    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...


class WindowRow(NamedTuple):
    """A recurring window as read for a search: its columns, without an ORM object."""

    rrule: str
    start_time: time
    end_time: time
    valid_from: date | None
    valid_until: date | None


class AbsenceRow(NamedTuple):
    """A whole-day exception as read for a search."""

    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def _rrule_parts(text: str) -> dict[str, str]:
    parts = {}
    for part in text.strip().removeprefix("RRULE:").split(";"):
        key, _, value = part.partition("=")
        parts[key.strip().upper()] = value.strip().upper()
    return parts


def rrule_problem(text: str) -> str | None:
    """Why an RRULE cannot be used, or None. DTSTART is ours (valid_from), so the text is the RRULE value only."""
    if "\n" in text.strip() or "DTSTART" in text.upper():
        return "give the RRULE value only (e.g. FREQ=WEEKLY;BYDAY=MO,TU); valid_from is its DTSTART"
    parts = _rrule_parts(text)
    if parts.get("FREQ") not in FREQUENCIES:
        return "FREQ must be one of " + ", ".join(sorted(FREQUENCIES))
    if parts.get("UNTIL", "").endswith("Z"):
        return "UNTIL is a local date (e.g. 20271231), without Z"
    try:
        _rule(text, datetime.combine(RRULE_ANCHOR, time()))
    except (ValueError, TypeError) as exc:
        return f"not a valid RFC 5545 RRULE: {exc}"
    return None


def rrule_needs_valid_from(text: str) -> bool:
    """COUNT and INTERVAL count from DTSTART, so such a rule needs valid_from to mean anything."""
    parts = _rrule_parts(text)
    return "COUNT" in parts or parts.get("INTERVAL", "1") != "1"


@lru_cache(maxsize=1024)
def _rule(text: str, dtstart: datetime) -> rrulebase:
    rule: rrulebase = rrulestr(text.strip().removeprefix("RRULE:"), dtstart=dtstart, cache=True)
    return rule


def window_days(window: Window, first: date, last: date) -> set[date]:
    """The days from ``first`` to ``last`` inclusive on which the window recurs."""
    first, last = max(first, window.valid_from or first), min(last, window.valid_until or last)
    if first > last:
        return set()
    rule = _rule(window.rrule, datetime.combine(window.valid_from or RRULE_ANCHOR, window.start_time))
    return {moment.date() for moment in
            rule.between(datetime.combine(first, time.min), datetime.combine(last, time.max), inc=True)}


def is_away(absences: Sequence[Absence], day: date) -> bool:
    return any(a.starts_on <= day <= a.ends_on for a in absences)


def _clashes(starts_at: datetime, ends_at: datetime, busy: Sequence[tuple[datetime, datetime]]) -> bool:
    start, end = _as_utc(starts_at), _as_utc(ends_at)
    return any(_as_utc(b_start) < end and start < _as_utc(b_end) for b_start, b_end in busy)


def is_available(windows: Sequence[Window], absences: Sequence[Absence], day: date, start: time, *,
                 length: timedelta = MEETING_LENGTH, tz: ZoneInfo = LONDON,
                 busy: Sequence[tuple[datetime, datetime]] = ()) -> bool:
    """Can the mediator hold a meeting of ``length`` starting at ``start`` local time on ``day``? Inside one
    window that recurs that day, not in an exception, not overlapping a meeting already booked (``busy``)."""
    if is_away(absences, day):
        return False
    starts = datetime.combine(day, start)
    ends = starts + length
    if ends.date() != day:
        return False
    inside = any(w.start_time <= start and ends.time() <= w.end_time and day in window_days(w, day, day)
                 for w in windows)
    return inside and not _clashes(starts.replace(tzinfo=tz), ends.replace(tzinfo=tz), busy)


def slots(windows: Sequence[Window], absences: Sequence[Absence], day: date, *, length: timedelta = MEETING_LENGTH,
          step: timedelta = SLOT_STEP, tz: ZoneInfo = LONDON,
          busy: Sequence[tuple[datetime, datetime]] = ()) -> list[Slot]:
    """The free meeting slots on ``day``: every ``step`` from each window's start while the meeting still ends
    inside it; none on a day of exception; none overlapping a booked meeting."""
    if is_away(absences, day):
        return []
    starts: set[datetime] = set()
    for window in windows:
        if day not in window_days(window, day, day):
            continue
        moment, end = datetime.combine(day, window.start_time), datetime.combine(day, window.end_time)
        while moment + length <= end:
            starts.add(moment)
            moment += step
    found = []
    for moment in sorted(starts):
        slot = Slot(moment.replace(tzinfo=tz), (moment + length).replace(tzinfo=tz))
        if not _clashes(slot.starts_at, slot.ends_at, busy):
            found.append(slot)
    return found


# --- Assignment: eligible, fair, free ---------------------------------------------------------------


@dataclass(frozen=True)
class Diary:
    """One mediator's time: recurring windows, exceptions, and the meetings already booked (start, end)."""

    windows: Sequence[Window] = ()
    absences: Sequence[Absence] = ()
    bookings: Sequence[tuple[datetime, datetime]] = ()


@dataclass(frozen=True)
class Assignment:
    """The mediator and slot chosen, or none; ``explanation`` is JSON for ops: ids and reasons, never names."""

    mediator: Mediator | None
    slot: Slot | None
    late: bool
    explanation: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """One line for a log or ``Meeting.assignment_reason`` (ids only)."""
        refused = "; ".join(f"{c['mediator_id']}: {', '.join(c['reasons'])}"
                            for c in self.explanation.get("considered", []) if not c["eligible"])
        if self.mediator is None or self.slot is None:
            text = "no eligible mediator with a free slot" + (f"; refused {refused}" if refused else "")
        else:
            load = next(c["load"] for c in self.explanation["considered"] if c["mediator_id"] == self.mediator.id)
            text = (f"{self.mediator.id}: independent (R13), no conflict, meets the case's needs; "
                    f"load {load['booked']}/{load['capacity']} in the week of {load['week_of']}")
            if self.late:
                text += f"; late: no free slot by {self.explanation['latest']}"
            if refused:
                text += f"; refused {refused}"
        return text[:500]


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _pick(free: list[Slot], preferred: time) -> Slot:
    return next((s for s in free if s.starts_at.timetz().replace(tzinfo=None) == preferred), free[0])


def rank_week(earliest: date, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> date:
    """The week whose load ranks the mediators: the week of the first working day on or after ``earliest``."""
    return _week(calendar.next_working_day_on_or_after(earliest))


def week_loads(diaries: Mapping[str, Diary], week: date, *, tz: ZoneInfo = LONDON) -> dict[str, int]:
    """Meetings booked in ``week`` (local dates) for each mediator of ``diaries``."""
    return {mediator_id: sum(1 for start, _ in diary.bookings if _week(_as_utc(start).astimezone(tz).date()) == week)
            for mediator_id, diary in diaries.items()}


@dataclass
class Ranking:
    """The pool refused and ranked for a case (steps 1 and 2 of ``assign``), before any diary is searched.

    ``considered`` is the explanation's entry of every candidate, whose reasons the search goes on adding to.
    """

    ranked: list[Mediator]
    considered: dict[str, dict[str, Any]]
    earliest: date
    latest: date

    def result(self, mediator: Mediator | None, slot: Slot | None, late: bool) -> Assignment:
        explanation = {"chosen": mediator.id if mediator else None, "slot": slot.starts_at.isoformat() if slot else None,
                       "late": late, "earliest": self.earliest.isoformat(), "latest": self.latest.isoformat(),
                       "considered": list(self.considered.values())}
        return Assignment(mediator, slot, late, explanation)


def rank(candidates: Sequence[Mediator], needs: Needs, *, earliest: date, latest: date,
         loads: Mapping[str, int], calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> Ranking:
    """Steps 1 and 2 of ``assign``: refuse, then rank by fair load. ``loads``: the meetings each mediator has
    booked in the week of ``rank_week(earliest)`` (none when absent)."""
    considered: dict[str, dict[str, Any]] = {}
    eligible: list[Mediator] = []
    for mediator in sorted(candidates, key=lambda m: m.id):
        reasons = refusals(mediator, needs)
        considered[mediator.id] = {"mediator_id": mediator.id, "eligible": not reasons, "reasons": reasons}
        if not reasons:
            eligible.append(mediator)
    week = rank_week(earliest, calendar)

    def load(mediator: Mediator) -> float:
        booked = loads.get(mediator.id, 0)
        return booked / mediator.capacity_per_week if mediator.capacity_per_week > 0 else math.inf

    ranked = sorted(eligible, key=lambda m: (load(m), _as_utc(m.last_booked_at), m.id))
    for mediator in ranked:
        booked = loads.get(mediator.id, 0)
        considered[mediator.id]["load"] = {"week_of": week.isoformat(), "booked": booked,
                                          "capacity": mediator.capacity_per_week}
        if booked >= mediator.capacity_per_week:
            considered[mediator.id]["reasons"].append(
                f"at capacity ({booked} of {mediator.capacity_per_week}) in the week of {week.isoformat()}")
    return Ranking(ranked, considered, earliest, latest)


class _Search:
    """Free slots of ranked mediators, each under their weekly capacity (steps 3 and 4 of ``assign``)."""

    def __init__(self, ranking: Ranking, diaries: Mapping[str, Diary], *, calendar: WorkingDayCalendar,
                 tz: ZoneInfo, length: timedelta, preferred_start: time) -> None:
        self.ranking, self.diaries, self.calendar = ranking, diaries, calendar
        self.tz, self.length, self.preferred_start = tz, length, preferred_start
        self._weekly: dict[str, Counter[date]] = {}

    def weekly(self, mediator_id: str) -> Counter[date]:
        if mediator_id not in self._weekly:
            self._weekly[mediator_id] = Counter(_week(_as_utc(start).astimezone(self.tz).date())
                                                for start, _ in self.diaries.get(mediator_id, Diary()).bookings)
        return self._weekly[mediator_id]

    def free_slot(self, mediator: Mediator, day: date) -> Slot | None:
        if not self.calendar.is_working_day(day):
            return None
        booked = self.weekly(mediator.id)[_week(day)]
        if booked >= mediator.capacity_per_week:
            note = f"at capacity ({booked} of {mediator.capacity_per_week}) in the week of {_week(day).isoformat()}"
            notes = self.ranking.considered[mediator.id]["reasons"]
            if note not in notes:
                notes.append(note)
            return None
        diary = self.diaries.get(mediator.id, Diary())
        free = slots(diary.windows, diary.absences, day, length=self.length, tz=self.tz, busy=diary.bookings)
        return _pick(free, self.preferred_start) if free else None


def first_on_time(ranking: Ranking, mediators: Sequence[Mediator], diaries: Mapping[str, Diary], *,
                  calendar: WorkingDayCalendar = DEFAULT_CALENDAR, tz: ZoneInfo = LONDON,
                  length: timedelta = MEETING_LENGTH, preferred_start: time = PREFERRED_START) -> Assignment | None:
    """Step 3 of ``assign`` for ``mediators``, the next of ``ranking.ranked`` in order (their ``diaries`` read):
    the first of them with a free slot by ``latest``, or None when none has one."""
    search = _Search(ranking, diaries, calendar=calendar, tz=tz, length=length, preferred_start=preferred_start)
    earliest, latest = ranking.earliest, ranking.latest
    for mediator in mediators:
        for day in _days(earliest, latest):
            slot = search.free_slot(mediator, day)
            if slot is not None:
                return ranking.result(mediator, slot, late=False)
        if earliest <= latest:
            ranking.considered[mediator.id]["reasons"].append(
                f"no free slot from {earliest.isoformat()} to {latest.isoformat()}")
    return None


def first_late(ranking: Ranking, diaries: Mapping[str, Diary], *, calendar: WorkingDayCalendar = DEFAULT_CALENDAR,
               tz: ZoneInfo = LONDON, horizon_days: int = HORIZON_DAYS, length: timedelta = MEETING_LENGTH,
               preferred_start: time = PREFERRED_START) -> Assignment:
    """Step 4 of ``assign``, once no ranked mediator is free by ``latest`` (every diary read)."""
    search = _Search(ranking, diaries, calendar=calendar, tz=tz, length=length, preferred_start=preferred_start)
    earliest, latest = ranking.earliest, ranking.latest
    for day in _days(max(earliest, latest + timedelta(days=1)), earliest + timedelta(days=horizon_days)):
        for mediator in ranking.ranked:
            slot = search.free_slot(mediator, day)
            if slot is not None:
                return ranking.result(mediator, slot, late=True)
    for mediator in ranking.ranked:
        ranking.considered[mediator.id]["reasons"].append(
            f"no free slot within {horizon_days} days of {earliest.isoformat()}")
    return ranking.result(None, None, late=False)


def assign(candidates: Sequence[Mediator], needs: Needs, *, earliest: date, latest: date,
           diaries: Mapping[str, Diary], calendar: WorkingDayCalendar = DEFAULT_CALENDAR, tz: ZoneInfo = LONDON,
           horizon_days: int = HORIZON_DAYS, length: timedelta = MEETING_LENGTH,
           preferred_start: time = PREFERRED_START) -> Assignment:
    """Choose a mediator and a slot for a case.

    1. Refuse whoever ``refusals`` names a reason for (R13 independence, conflicts, area, languages,
       accessibility, inactive).
    2. Rank the rest by fair load: meetings booked in the week of ``earliest`` / capacity_per_week, then least
       recently booked, then id.
    3. In that order, the first mediator with a free slot on a working day from ``earliest`` to ``latest`` in a
       week they are under capacity gets the first such day (10:00 if free, else the day's first free slot).
    4. Otherwise the first free slot after ``latest`` of any of them, up to ``horizon_days`` after ``earliest``,
       fairest first on the same day, is booked ``late``.

    The steps are also ``rank``, ``first_on_time`` and ``first_late``, so that a caller can read the diaries of
    the fairest mediators first and the others only when those have no free slot.
    """
    ranking = rank(candidates, needs, earliest=earliest, latest=latest, calendar=calendar,
                   loads=week_loads(diaries, rank_week(earliest, calendar), tz=tz))
    return (first_on_time(ranking, ranking.ranked, diaries, calendar=calendar, tz=tz, length=length,
                          preferred_start=preferred_start)
            or first_late(ranking, diaries, calendar=calendar, tz=tz, horizon_days=horizon_days, length=length,
                          preferred_start=preferred_start))


# --- Capacity: how many meetings the pool can still take in a window -------------------------------


def bookable_meetings(candidates: Sequence[Mediator], needs: Needs, *, earliest: date, latest: date,
                      diaries: Mapping[str, Diary], calendar: WorkingDayCalendar = DEFAULT_CALENDAR,
                      tz: ZoneInfo = LONDON, length: timedelta = MEETING_LENGTH) -> dict[str, int]:
    """For each mediator eligible for ``needs``: how many more meetings fit from ``earliest`` to ``latest``.

    On each working day, as many non-overlapping free slots as the day holds; in each week no more than the
    mediator's ``capacity_per_week`` less the meetings already booked that week (the limits ``assign`` keeps).
    A mediator refused for the case (``refusals``) counts nothing.
    """
    found: dict[str, int] = {}
    for mediator in sorted(candidates, key=lambda m: m.id):
        if refusals(mediator, needs):
            continue
        diary = diaries.get(mediator.id, Diary())
        booked = Counter(_week(_as_utc(start).astimezone(tz).date()) for start, _ in diary.bookings)
        per_week: Counter[date] = Counter()
        for day in _days(earliest, latest):
            if not calendar.is_working_day(day):
                continue
            end: datetime | None = None
            for slot in slots(diary.windows, diary.absences, day, length=length, tz=tz, busy=diary.bookings):
                if end is None or slot.starts_at >= end:
                    per_week[_week(day)] += 1
                    end = slot.ends_at
        found[mediator.id] = sum(min(count, max(0, mediator.capacity_per_week - booked[week]))
                                 for week, count in per_week.items())
    return found
