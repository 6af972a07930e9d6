"""Scheduling's booking rules: R9 30-day date, R11 notice of the meeting, R13 mediator independence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduling.mediator import rules as mediator_rules
from scheduling.mediator.models import EmployerKind, Mediator, MediatorAvailability
from scheduling.mediator.rules import Diary, Needs
from scheduling.meeting import rules
from shared.calendar import WorkingDayCalendar


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def mediator(id: str, **overrides) -> Mediator:
    fields = {"name": f"Mediator {id}", "provider_id": "prov-1", "employer_kind": EmployerKind.independent,
              "employer_name": "Independent", "capacity_per_week": 5, "active": True, "last_booked_at": None}
    return Mediator(id=id, **{**fields, **overrides})


# R13: mediator independence.


@pytest.mark.parametrize("kind", [EmployerKind.independent, EmployerKind.self_employed])
def test_r13_independent_and_self_employed_mediators_are_independent(kind):
    assert mediator_rules.is_independent(mediator("m1", employer_kind=kind)) is True


@pytest.mark.parametrize("kind", [EmployerKind.local_authority, EmployerKind.icb, EmployerKind.nhs_england])
def test_r13_la_icb_and_nhs_england_employees_are_not_independent(kind):
    assert mediator_rules.is_independent(mediator("m1", employer_kind=kind)) is False


def pick(candidates: list[Mediator], *, earliest: date = date(2026, 11, 30), latest: date = date(2026, 12, 18)
         ) -> mediator_rules.Assignment:
    """The live assignment rule, everyone free on weekdays 09:30-16:30 and nobody booked yet."""
    weekdays = MediatorAvailability(mediator_id="m", rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                                    start_time=time(9, 30), end_time=time(16, 30))
    return mediator_rules.assign(candidates, Needs(provider_id="prov-1", la_code="E06000033"), earliest=earliest,
                                 latest=latest, diaries={m.id: Diary(windows=[weekdays]) for m in candidates},
                                 calendar=WorkingDayCalendar())


def refused(assignment: mediator_rules.Assignment) -> dict[str, list[str]]:
    return {c["mediator_id"]: c["reasons"] for c in assignment.explanation["considered"] if not c["eligible"]}


def test_r13_la_icb_and_nhs_england_employees_are_refused_and_named_in_the_explanation():
    candidates = [
        mediator("la-1", employer_kind=EmployerKind.local_authority, employer_name="Essex County Council"),
        mediator("nhse-1", employer_kind=EmployerKind.nhs_england, employer_name="NHS England"),
        mediator("ind-1"),
        mediator("icb-1", employer_kind=EmployerKind.icb, employer_name="NHS Mid and South Essex ICB"),
    ]

    assignment = pick(candidates)

    assert assignment.mediator is not None and assignment.mediator.id == "ind-1"
    assert refused(assignment) == {
        "la-1": ["not independent (R13): employed by Essex County Council"],
        "nhse-1": ["not independent (R13): employed by NHS England"],
        "icb-1": ["not independent (R13): employed by NHS Mid and South Essex ICB"],
    }


def test_r13_nobody_is_refused_when_everyone_is_independent():
    assert refused(pick([mediator("b"), mediator("a")])) == {}


def test_r13_least_recently_booked_independent_mediator_is_chosen():
    candidates = [
        mediator("recent", last_booked_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        mediator("longest-ago", last_booked_at=datetime(2026, 10, 1, 9, 0, tzinfo=UTC)),
        mediator("middle", last_booked_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
    ]

    assignment = pick(candidates)

    assert assignment.mediator is not None and assignment.mediator.id == "longest-ago"


def test_r13_a_never_booked_mediator_is_chosen_before_one_already_booked():
    assignment = pick([mediator("booked", last_booked_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
                       mediator("never-booked")])

    assert assignment.mediator is not None and assignment.mediator.id == "never-booked"


def test_r13_naive_utc_and_aware_booking_times_are_compared_as_utc():
    assignment = pick([mediator("aware", last_booked_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
                       mediator("naive", last_booked_at=datetime(2026, 11, 20, 8, 59))])

    assert assignment.mediator is not None and assignment.mediator.id == "naive"


def test_r13_inactive_mediators_are_skipped():
    assignment = pick([mediator("a-inactive", active=False), mediator("b-active")])

    assert assignment.mediator is not None and assignment.mediator.id == "b-active"


def test_r13_no_choice_when_no_mediator_is_independent_and_active():
    assignment = pick([
        mediator("la-1", employer_kind=EmployerKind.local_authority),
        mediator("icb-1", employer_kind=EmployerKind.icb),
        mediator("ind-inactive", active=False),
    ])

    assert assignment.mediator is None and assignment.slot is None


def test_r13_no_choice_from_an_empty_pool():
    assert pick([]).mediator is None


# R11 with T4: 5 clear working days between the notice and the meeting.


def test_r11_meeting_needs_five_clear_working_days_excluding_the_weekend(calendar):
    day = rules.earliest_meeting_day(date(2026, 3, 2), calendar)  # Monday

    assert day == date(2026, 3, 10)  # clear: Tue 3 - Fri 6, Mon 9


def test_r11_meeting_needs_five_clear_working_days_excluding_christmas_bank_holidays(calendar):
    day = rules.earliest_meeting_day(date(2026, 12, 24), calendar)  # Thursday

    assert day == date(2027, 1, 6)  # clear: 29, 30, 31 Dec, 4, 5 Jan


def test_r11_meeting_needs_five_clear_working_days_excluding_good_friday_and_easter_monday(calendar):
    day = rules.earliest_meeting_day(date(2026, 4, 1), calendar)  # Wednesday

    assert day == date(2026, 4, 13)  # clear: Thu 2, Tue 7 - Fri 10


def test_r11_notice_given_on_a_saturday_counts_clear_days_from_monday(calendar):
    day = rules.earliest_meeting_day(date(2026, 3, 7), calendar)

    assert day == date(2026, 3, 16)  # clear: Mon 9 - Fri 13


def test_r11_august_days_count_as_clear_working_days(calendar):
    day = rules.earliest_meeting_day(date(2026, 8, 3), calendar)  # Monday

    assert day == date(2026, 8, 11)  # clear: Tue 4 - Mon 10


def booked_day(notice_given_on: date, mediate_by: date, calendar: WorkingDayCalendar) -> tuple[date, bool]:
    """What scheduling books: from the first day with full notice (R11), late after the 30-day date (R9)."""
    assignment = pick([mediator("m1")], earliest=rules.earliest_meeting_day(notice_given_on, calendar),
                      latest=mediate_by)
    assert assignment.slot is not None
    return assignment.slot.starts_at.date(), assignment.late


def test_r11_meeting_day_is_on_time_when_it_is_the_mediate_by_date(calendar):
    assert booked_day(date(2026, 12, 24), date(2027, 1, 6), calendar) == (date(2027, 1, 6), False)


def test_r11_meeting_day_is_late_when_full_notice_pushes_it_past_mediate_by(calendar):
    assert booked_day(date(2026, 12, 24), date(2027, 1, 5), calendar) == (date(2027, 1, 6), True)


def test_r9_a_30_day_date_on_a_sunday_is_not_moved_so_the_following_monday_is_late(calendar):
    assert booked_day(date(2026, 10, 23), date(2026, 11, 1), calendar) == (date(2026, 11, 2), True)


def test_r9_a_30_day_date_on_a_sunday_is_met_by_the_friday_before(calendar):
    assert booked_day(date(2026, 10, 22), date(2026, 11, 1), calendar) == (date(2026, 10, 30), False)


def test_meetings_are_two_hours_from_10am_london_time():
    london = ZoneInfo("Europe/London")

    assignment = pick([mediator("m1")], earliest=date(2026, 7, 6), latest=date(2026, 7, 6))

    assert assignment.slot is not None
    assert assignment.slot.starts_at == datetime(2026, 7, 6, 10, 0, tzinfo=london)
    assert assignment.slot.ends_at == datetime(2026, 7, 6, 12, 0, tzinfo=london)
    assert assignment.slot.starts_at.utcoffset().total_seconds() == 3600  # BST


def test_r18_an_agreement_to_assess_sets_the_tribunal_order_limits():
    from scheduling.meeting.rules import follow_ups

    steps = follow_ups("assess", agreed_on=date(2026, 12, 1))

    assert [(f.step, f.due_on) for f in steps] == [
        ("tell_parent", date(2026, 12, 15)), ("decide_not_to_issue_plan", date(2027, 2, 9)),
        ("final_plan", date(2027, 3, 9))]


def test_r18_a_timescale_agreed_in_writing_replaces_the_default():
    from scheduling.meeting.rules import follow_ups

    [step] = follow_ups("non_appealable", agreed_on=date(2026, 12, 1), agreed_timescale_days=30)

    assert step.due_on == date(2026, 12, 31)


def test_r18_continuing_a_plan_is_immediate_and_an_la_not_party_is_told_within_a_week():
    from scheduling.meeting.rules import follow_ups

    assert follow_ups("continue_plan", agreed_on=date(2026, 12, 1))[0].due_on == date(2026, 12, 1)
    assert follow_ups("tell_la_when_not_a_party", agreed_on=date(2026, 12, 1))[0].due_on == date(2026, 12, 8)
