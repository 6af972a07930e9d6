"""Pure booking rules (RULES.md R9, R11, R13). No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduling.mediator.models import EmployerKind, Mediator
from shared.calendar import WorkingDayCalendar

NOTICE_CLEAR_WORKING_DAYS = 5  # R11
NOT_INDEPENDENT = frozenset({EmployerKind.local_authority, EmployerKind.icb, EmployerKind.nhs_england})  # R5, R13
MEETING_STARTS = time(10, 0)
MEETING_LENGTH = timedelta(hours=2)


def is_independent(mediator: Mediator) -> bool:
    """R13: no one employed by any LA in England; nor an ICB or NHS England (conservative extension)."""
    return mediator.employer_kind not in NOT_INDEPENDENT


def earliest_meeting_day(notice_given_on: date, calendar: WorkingDayCalendar) -> date:
    """R11 with T4: the first working day with 5 clear working days between notice and meeting."""
    day = calendar.add_working_days(notice_given_on, NOTICE_CLEAR_WORKING_DAYS + 1)
    assert calendar.clear_working_days_between(notice_given_on, day) >= NOTICE_CLEAR_WORKING_DAYS
    return day


@dataclass(frozen=True)
class MeetingDay:
    day: date
    late: bool


def choose_meeting_day(*, notice_given_on: date, mediate_by: date, calendar: WorkingDayCalendar) -> MeetingDay:
    """The earliest day that gives full notice (R11); late when it falls after the 30-day date (R9, R10)."""
    day = earliest_meeting_day(notice_given_on, calendar)
    return MeetingDay(day=day, late=day > mediate_by)


@dataclass(frozen=True)
class Choice:
    mediator: Mediator
    reason: str


def choose_mediator(candidates: Sequence[Mediator]) -> Choice | None:
    """An independent, active mediator, least recently booked first (fair load)."""
    eligible = [m for m in candidates if m.active and is_independent(m)]
    refused = sorted(m.id for m in candidates if not is_independent(m))
    if not eligible:
        return None
    chosen = min(eligible, key=lambda m: (_as_utc(m.last_booked_at), -m.capacity_per_week, m.id))
    reason = "independent (R13); least recently booked of " + ", ".join(sorted(m.id for m in eligible))
    if refused:
        reason += "; refused as not independent: " + ", ".join(refused)
    return Choice(chosen, reason)


def _as_utc(moment: datetime | None) -> datetime:
    """Never booked sorts first; SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def meeting_times(day: date, tz: object) -> tuple[datetime, datetime]:
    starts = datetime.combine(day, MEETING_STARTS, tzinfo=tz)  # type: ignore[arg-type]
    return starts, starts + MEETING_LENGTH


# --- R18: what an agreement obliges, and by when ---------------------------------------------------

#: Follow-up steps and their limits in days from the written agreement (reg 42/44; Tribunal SEND18 guidance).
FOLLOW_UPS: dict[str, tuple[tuple[str, int], ...]] = {
    "assess": (("tell_parent", 14), ("decide_not_to_issue_plan", 70), ("final_plan", 98)),
    "reassess": (("tell_parent", 14), ("decide_not_to_issue_plan", 70), ("final_plan", 98)),
    "make_plan": (("draft_plan", 35), ("final_plan", 77)),
    "amend_plan": (("amend_plan", 35),),
    "change_named_school": (("change_named_school", 14),),
    "continue_plan": (("continue_plan", 0),),
    "non_appealable": (("act_on_agreement", 14),),
    "tell_la_when_not_a_party": (("commissioning_body_tells_la", 7),),
}


@dataclass(frozen=True)
class FollowUp:
    step: str
    due_on: date


def follow_ups(item: str, *, agreed_on: date, agreed_timescale_days: int | None = None) -> list[FollowUp]:
    """R18: the default limits, or the timescale the parties agreed in writing, which replaces them."""
    if agreed_timescale_days is not None:
        return [FollowUp(step, agreed_on + timedelta(days=agreed_timescale_days)) for step, _ in FOLLOW_UPS[item]]
    return [FollowUp(step, agreed_on + timedelta(days=days)) for step, days in FOLLOW_UPS[item]]
