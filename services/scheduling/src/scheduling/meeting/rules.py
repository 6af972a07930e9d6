"""Pure booking rules (docs/rules.md R10, R11, R12, R14, R18, R21, R23); who mediates is in scheduling.mediator.rules.
No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.calendar import WorkingDayCalendar

NOTICE_CLEAR_WORKING_DAYS = 5  # R11


def earliest_meeting_day(notice_given_on: date, calendar: WorkingDayCalendar) -> date:
    """R11 with T4: the first working day with 5 clear working days between notice and meeting."""
    day = calendar.add_working_days(notice_given_on, NOTICE_CLEAR_WORKING_DAYS + 1)
    assert calendar.clear_working_days_between(notice_given_on, day) >= NOTICE_CLEAR_WORKING_DAYS
    return day


# --- R11, R23: a booking the provider makes ----------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a booking is refused: the field at fault and the rule, for a 4xx that names both."""

    field: str
    reason: str


def notice_problem(*, notice_given_on: date, day: date, short_notice_consent_on: date | None,
                   calendar: WorkingDayCalendar) -> Problem | None:
    """R11 (T4): at least 5 clear working days between notice and meeting, unless the parent or young
    person's consent to shorter notice is recorded (on or before the day notice is given)."""
    if day <= notice_given_on:
        return Problem("starts_at", "must be after the day notice is given")
    clear = calendar.clear_working_days_between(notice_given_on, day)
    if clear >= NOTICE_CLEAR_WORKING_DAYS:
        return None
    if short_notice_consent_on is not None:
        if short_notice_consent_on > notice_given_on:
            return Problem("short_notice_consent.given_on", "consent cannot be recorded after the notice is given")
        return None
    return Problem("starts_at", f"gives {clear} clear working days' notice; R11 needs {NOTICE_CLEAR_WORKING_DAYS} "
                                "unless the parent or young person's consent to shorter notice is recorded "
                                "(short_notice_consent)")


# --- R12, R14: who attends ------------------------------------------------------------------------------

FAMILY = frozenset({"parent", "young_person"})
SUPPORTERS = frozenset({"supporter", "advocate"})
NEEDS_CONSENT = frozenset({"child", "other"})
_WHO = {"child": "the child", "other": "anyone else"}


def attendance_problems(attendees: Sequence[dict[str, object]], *, kind: str, arranging_body: str,
                        health_issues: bool) -> list[Problem]:
    """R14 who may attend, R12 decision-makers with authority. ``attendees`` are dicts with ``role``,
    ``has_authority`` and ``consent`` (``all_parties`` or ``mediator``, for anyone who is not there by right)."""
    problems: list[Problem] = []
    roles = [str(a.get("role")) for a in attendees]
    if kind == "mediation" and not FAMILY & set(roles):
        problems.append(Problem("attendees", "R14: the parent or young person, a party, must be among the attendees"))
    supporters_seen = 0
    for index, attendee in enumerate(attendees):
        role, consent = str(attendee.get("role")), attendee.get("consent")
        if role in SUPPORTERS:
            supporters_seen += 1
            if supporters_seen > 1 and not consent:
                problems.append(Problem(f"attendees.{index}.consent", "R14: one supporter or advocate is a right; "
                                        "another needs the consent of all parties or of the mediator"))
        elif role in NEEDS_CONSENT and not consent:
            problems.append(Problem(f"attendees.{index}.consent", f"R14: {_WHO[role]} attends with the consent "
                                    "of all parties or of the mediator"))
    la_party = kind == "mediation" and arranging_body == "local_authority"
    if la_party and not any(a.get("role") == "la_decision_maker" and a.get("has_authority") for a in attendees):
        problems.append(Problem("attendees", "R12: the LA must send a decision-maker with authority to resolve "
                                "the issues (role la_decision_maker, has_authority true)"))
    if kind == "mediation" and health_issues and not any(
            a.get("role") == "health_representative" and a.get("has_authority") for a in attendees):
        problems.append(Problem("attendees", "R12: the health commissioning body must send someone with authority "
                                "(role health_representative, has_authority true)"))
    return problems


def child_views_problem(child_views: dict[str, object] | None, *, kind: str, attendees: Sequence[dict[str, object]]
                        ) -> Problem | None:
    """R14: where a parent is the party, the mediator takes reasonable steps to find out the child's views."""
    parent_is_party = any(a.get("role") == "parent" for a in attendees)
    if kind != "mediation" or not parent_is_party:
        return None
    if child_views is None:
        return Problem("child_views", "R14: where a parent is the party, record how the child's views are sought")
    return None


def consent_problems(missing: Sequence[str]) -> list[Problem]:
    """R21: a disagreement-resolution meeting is booked only once every party has consented."""
    return [Problem("parties", f"no recorded consent from the {role} (R21)") for role in missing]


# --- R10: day 30 ------------------------------------------------------------------------------------------


def deadline_breached(*, mediate_by: date, today: date, meetings: Sequence[tuple[str, date]]) -> bool:
    """R10: day 30 has come and no meeting was held by it. ``meetings`` are (status, day) pairs for the case,
    status ``held``, ``scheduled``, ``not_held``, ``cancelled`` or ``no_show``. A meeting held on or before
    ``mediate_by``, or still scheduled on or before it (it may happen later today, or the provider has yet to
    report its outcome), prevents the breach."""
    if today < mediate_by:
        return False
    return not any(status in ("held", "scheduled") and day <= mediate_by for status, day in meetings)
    return True


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
