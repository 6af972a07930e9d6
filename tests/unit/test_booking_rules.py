"""The rules a provider's booking must keep: R11 notice and consent to short notice, R12 decision-makers,
R14 who may attend and the child's views, and R10 the day-30 watch."""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.meeting import rules
from shared.calendar import WorkingDayCalendar


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


PARENT = {"role": "parent"}
LA = {"role": "la_decision_maker", "has_authority": True}
HEALTH = {"role": "health_representative", "has_authority": True}


def fields(problems: list[rules.Problem]) -> list[str]:
    return [p.field for p in problems]


# R11 (with T4): 5 clear working days' notice, or the parent's recorded consent to less.


def test_r11_five_clear_working_days_is_enough_notice(calendar):
    assert rules.notice_problem(notice_given_on=date(2026, 3, 2), day=date(2026, 3, 10),
                                short_notice_consent_on=None, calendar=calendar) is None


def test_r11_four_clear_working_days_without_consent_is_refused_naming_starts_at(calendar):
    problem = rules.notice_problem(notice_given_on=date(2026, 3, 2), day=date(2026, 3, 9),
                                   short_notice_consent_on=None, calendar=calendar)

    assert problem is not None and problem.field == "starts_at"
    assert "4 clear working days" in problem.reason and "short_notice_consent" in problem.reason


def test_r11_a_bank_holiday_inside_the_notice_window_does_not_count(calendar):
    # Notice Thu 24 Dec 2026; 25 and 28 Dec are bank holidays: clear days 29, 30, 31 Dec and 4 Jan are only 4.
    problem = rules.notice_problem(notice_given_on=date(2026, 12, 24), day=date(2027, 1, 5),
                                   short_notice_consent_on=None, calendar=calendar)

    assert problem is not None and "4 clear working days" in problem.reason


def test_r11_consent_to_short_notice_allows_a_meeting_two_days_away(calendar):
    assert rules.notice_problem(notice_given_on=date(2026, 3, 2), day=date(2026, 3, 4),
                                short_notice_consent_on=date(2026, 3, 2), calendar=calendar) is None


def test_r11_consent_dated_after_the_notice_is_refused(calendar):
    problem = rules.notice_problem(notice_given_on=date(2026, 3, 2), day=date(2026, 3, 4),
                                   short_notice_consent_on=date(2026, 3, 3), calendar=calendar)

    assert problem is not None and problem.field == "short_notice_consent.given_on"


def test_r23_a_meeting_on_or_before_the_day_notice_is_given_is_refused_even_with_consent(calendar):
    problem = rules.notice_problem(notice_given_on=date(2026, 3, 2), day=date(2026, 3, 2),
                                   short_notice_consent_on=date(2026, 3, 1), calendar=calendar)

    assert problem is not None and problem.field == "starts_at"


# R12 and R14: who attends.


def test_r14_the_parent_and_one_supporter_attend_by_right():
    attendees = [PARENT, {"role": "supporter"}, LA]

    assert rules.attendance_problems(attendees, kind="mediation", arranging_body="local_authority",
                                     health_issues=False) == []


def test_r14_a_second_supporter_needs_the_consent_of_all_parties_or_the_mediator():
    attendees = [PARENT, {"role": "supporter"}, {"role": "advocate"}, LA]

    problems = rules.attendance_problems(attendees, kind="mediation", arranging_body="local_authority",
                                         health_issues=False)

    assert fields(problems) == ["attendees.2.consent"]
    attendees[2] = {"role": "advocate", "consent": "mediator"}
    assert rules.attendance_problems(attendees, kind="mediation", arranging_body="local_authority",
                                     health_issues=False) == []


@pytest.mark.parametrize("role", ["child", "other"])
def test_r14_the_child_or_anyone_else_attends_only_with_consent(role):
    problems = rules.attendance_problems([PARENT, LA, {"role": role}], kind="mediation",
                                         arranging_body="local_authority", health_issues=False)

    assert fields(problems) == ["attendees.2.consent"]
    assert problems[0].reason.startswith({"child": "R14: the child attends", "other": "R14: anyone else attends"}[role])


def test_r14_a_mediation_without_the_parent_or_young_person_is_refused():
    problems = rules.attendance_problems([{"role": "supporter"}, LA], kind="mediation",
                                         arranging_body="local_authority", health_issues=False)

    assert fields(problems) == ["attendees"]
    assert "parent or young person" in problems[0].reason


def test_r12_the_la_must_send_a_decision_maker_with_authority():
    problems = rules.attendance_problems([PARENT, {"role": "la_decision_maker", "has_authority": False}],
                                         kind="mediation", arranging_body="local_authority", health_issues=False)

    assert fields(problems) == ["attendees"]
    assert "R12" in problems[0].reason


def test_r12_with_health_issues_the_commissioning_body_sends_someone_with_authority_too():
    problems = rules.attendance_problems([PARENT, LA], kind="mediation", arranging_body="local_authority",
                                         health_issues=True)

    assert "health_representative" in problems[0].reason
    assert rules.attendance_problems([PARENT, LA, HEALTH], kind="mediation", arranging_body="local_authority",
                                     health_issues=True) == []


def test_r8_in_a_health_only_mediation_the_la_is_not_a_party_and_need_not_attend():
    assert rules.attendance_problems([{"role": "young_person"}, HEALTH], kind="mediation",
                                     arranging_body="health_commissioning_body", health_issues=True) == []


def test_r14_where_a_parent_is_the_party_the_childs_views_must_be_sought():
    problem = rules.child_views_problem(None, kind="mediation", attendees=[PARENT, LA])

    assert problem is not None and problem.field == "child_views"
    assert rules.child_views_problem({"status": "recorded", "method": "in_writing"}, kind="mediation",
                                     attendees=[PARENT, LA]) is None


def test_r14_a_young_person_acting_for_themselves_needs_no_separate_childs_views():
    assert rules.child_views_problem(None, kind="mediation", attendees=[{"role": "young_person"}, LA]) is None


def test_r21_a_disagreement_resolution_meeting_needs_no_la_decision_maker_rule_or_childs_views():
    attendees = [{"role": "parent"}, {"role": "other", "consent": "all_parties"}]

    assert rules.attendance_problems(attendees, kind="disagreement_resolution", arranging_body="local_authority",
                                     health_issues=False) == []
    assert rules.child_views_problem(None, kind="disagreement_resolution", attendees=attendees) is None


# R10: day 30 with no meeting held.

MEDIATE_BY = date(2026, 12, 20)  # a Sunday: not moved (T5)


def test_r10_no_breach_before_day_30_whatever_the_meetings():
    assert not rules.deadline_breached(mediate_by=MEDIATE_BY, today=date(2026, 12, 19), meetings=[])


def test_r10_day_30_with_no_meeting_at_all_is_a_breach():
    assert rules.deadline_breached(mediate_by=MEDIATE_BY, today=MEDIATE_BY, meetings=[])


def test_r10_day_30_with_the_meeting_booked_after_it_is_a_breach():
    assert rules.deadline_breached(mediate_by=MEDIATE_BY, today=MEDIATE_BY,
                                   meetings=[("scheduled", date(2026, 12, 21))])


def test_r10_a_meeting_held_by_day_30_is_no_breach():
    assert not rules.deadline_breached(mediate_by=MEDIATE_BY, today=date(2026, 12, 22),
                                       meetings=[("held", date(2026, 12, 18))])


def test_r10_a_meeting_due_by_day_30_whose_outcome_is_not_reported_yet_is_not_a_breach_yet():
    assert not rules.deadline_breached(mediate_by=MEDIATE_BY, today=date(2026, 12, 21),
                                       meetings=[("scheduled", date(2026, 12, 18))])


@pytest.mark.parametrize("status", ["cancelled", "no_show", "not_held"])
def test_r10_a_meeting_cancelled_missed_or_not_held_leaves_day_30_breached(status):
    assert rules.deadline_breached(mediate_by=MEDIATE_BY, today=MEDIATE_BY, meetings=[(status, date(2026, 12, 18))])


def test_r10_a_meeting_held_only_after_day_30_does_not_undo_the_breach():
    assert rules.deadline_breached(mediate_by=MEDIATE_BY, today=date(2026, 12, 23),
                                   meetings=[("held", date(2026, 12, 22))])


# R21: disagreement resolution waits for every party's consent.


def test_r21_booking_is_refused_naming_each_party_whose_consent_is_missing():
    problems = rules.consent_problems(["school", "local_authority"])

    assert [(p.field, p.reason) for p in problems] == [
        ("parties", "no recorded consent from the school (R21)"),
        ("parties", "no recorded consent from the local_authority (R21)")]


def test_r21_with_every_consent_recorded_nothing_stops_the_booking():
    assert rules.consent_problems([]) == []
