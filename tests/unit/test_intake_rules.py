"""Intake's statutory rules: R4 contact window, R6 certificate due, R8 mediate-by date, R23 date checks."""

from __future__ import annotations

from datetime import date

import pytest

from intake.case import rules
from intake.case.models import CaseKind
from shared.calendar import DEFAULT_CALENDAR, WorkingDayCalendar


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# R4: contact the adviser within 2 calendar months after the notice was sent.


def test_r4_contact_window_ends_on_the_corresponding_date_two_months_after_the_notice(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 3, 4), told_on=date(2026, 3, 20), calendar=calendar
    )

    assert deadlines.contact_window_ends_on == date(2026, 5, 4)
    assert deadlines.late_contact is False


def test_r4_contact_window_from_31_december_ends_on_the_last_day_of_february(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 12, 31), told_on=date(2027, 1, 5), calendar=calendar
    )

    assert deadlines.contact_window_ends_on == date(2027, 2, 28)


def test_r4_contact_on_the_last_day_of_the_window_is_not_late_even_on_a_bank_holiday(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 3, 4), told_on=date(2026, 5, 4), calendar=calendar
    )

    assert deadlines.contact_window_ends_on == date(2026, 5, 4)  # early May bank holiday: never moves
    assert deadlines.late_contact is False


def test_r4_contact_the_day_after_the_window_is_flagged_late_contact(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 3, 4), told_on=date(2026, 5, 5), calendar=calendar
    )

    assert deadlines.late_contact is True


def test_r4_late_contact_is_flagged_for_a_declined_case_too(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 3, 4), told_on=date(2026, 5, 5), calendar=calendar
    )

    assert deadlines.late_contact is True


# R8 / T5: mediate by = told + 30 calendar days, never moved.


def test_r8_mediate_by_is_30_calendar_days_after_the_la_is_told(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 1, 5), told_on=date(2026, 1, 12), calendar=calendar
    )

    assert deadlines.mediate_by == date(2026, 2, 11)
    assert deadlines.certificate_due_on is None


def test_r8_t5_mediate_by_on_a_sunday_is_not_moved(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 9, 14), told_on=date(2026, 10, 2), calendar=calendar
    )

    assert deadlines.mediate_by == date(2026, 11, 1)  # a Sunday


def test_r8_t5_mediate_by_on_a_bank_holiday_is_not_moved(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation, notice_sent_on=date(2026, 11, 20), told_on=date(2026, 11, 25), calendar=calendar
    )

    assert deadlines.mediate_by == date(2026, 12, 25)


# R6: the decline certificate is due within 3 working days of being told.


def test_r6_certificate_due_three_working_days_after_being_told(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 3, 2), told_on=date(2026, 3, 9), calendar=calendar
    )

    assert deadlines.certificate_due_on == date(2026, 3, 12)
    assert deadlines.mediate_by is None


def test_r6_certificate_due_date_skips_christmas_and_the_boxing_day_substitute(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 12, 1), told_on=date(2026, 12, 24), calendar=calendar
    )

    assert deadlines.certificate_due_on == date(2026, 12, 31)


def test_r6_certificate_due_date_skips_good_friday_and_easter_monday(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 3, 2), told_on=date(2026, 4, 2), calendar=calendar
    )

    assert deadlines.certificate_due_on == date(2026, 4, 9)


def test_r6_told_on_a_saturday_counts_from_monday(calendar):
    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 3, 2), told_on=date(2026, 3, 7), calendar=calendar
    )

    assert deadlines.certificate_due_on == date(2026, 3, 11)


def test_r6_uses_the_calendar_it_is_given():
    calendar = WorkingDayCalendar(extra_holidays=[date(2026, 3, 10)])

    deadlines = rules.deadlines(
        CaseKind.mediation_declined, notice_sent_on=date(2026, 3, 2), told_on=date(2026, 3, 9), calendar=calendar
    )

    assert deadlines.certificate_due_on == date(2026, 3, 13)


# R23: input checks on dates.

TODAY = date(2026, 6, 10)


def errors_for(*, decision_date: date, notice_sent_on: date, told_on: date) -> list[tuple[str, str]]:
    errors = rules.date_errors(decision_date=decision_date, notice_sent_on=notice_sent_on, told_on=told_on,
                               today=TODAY)
    return [(error.field, error.reason) for error in errors]


def test_r23_consistent_dates_have_no_errors():
    errors = errors_for(decision_date=date(2026, 6, 1), notice_sent_on=date(2026, 6, 2), told_on=date(2026, 6, 3))

    assert errors == []


def test_r23_notice_on_decision_day_and_told_today_are_allowed():
    errors = errors_for(decision_date=date(2026, 6, 1), notice_sent_on=date(2026, 6, 1), told_on=TODAY)

    assert errors == []


def test_r23_a_notice_sent_in_the_future_is_refused():
    errors = errors_for(decision_date=date(2026, 6, 1), notice_sent_on=date(2026, 6, 11), told_on=date(2026, 6, 11))

    assert ("body.notice_sent_on", "must not be in the future") in errors


def test_r23_a_notice_sent_before_the_decision_is_refused():
    errors = errors_for(decision_date=date(2026, 6, 2), notice_sent_on=date(2026, 6, 1), told_on=date(2026, 6, 3))

    assert errors == [("body.notice_sent_on", "must not be before decision_date")]


def test_r23_being_told_before_the_notice_was_sent_is_refused():
    errors = errors_for(decision_date=date(2026, 6, 1), notice_sent_on=date(2026, 6, 5), told_on=date(2026, 6, 4))

    assert errors == [("body.told_on", "must not be before notice_sent_on")]


def test_r23_being_told_in_the_future_is_refused():
    errors = errors_for(decision_date=date(2026, 6, 1), notice_sent_on=date(2026, 6, 2), told_on=date(2026, 6, 11))

    assert errors == [("body.told_on", "must not be in the future")]


def test_r23_every_failing_date_is_reported_at_once():
    errors = errors_for(decision_date=date(2026, 6, 20), notice_sent_on=date(2026, 6, 15), told_on=date(2026, 6, 12))

    assert sorted(errors) == [
        ("body.notice_sent_on", "must not be before decision_date"),
        ("body.notice_sent_on", "must not be in the future"),
        ("body.told_on", "must not be before notice_sent_on"),
        ("body.told_on", "must not be in the future"),
    ]


# --- R8 health-only, R4 late contact, R2, explained deadlines --------------------------------------------


def test_r8_health_only_mediation_runs_30_days_from_the_notice_to_the_health_body_not_from_the_la_being_told():
    health_only = rules.deadlines(CaseKind.mediation, notice_sent_on=date(2026, 11, 3), told_on=date(2026, 11, 20),
                                  calendar=DEFAULT_CALENDAR, health_only=True,
                                  health_notice_sent_on=date(2026, 11, 25))
    with_education = rules.deadlines(CaseKind.mediation, notice_sent_on=date(2026, 11, 3), told_on=date(2026, 11, 20),
                                     calendar=DEFAULT_CALENDAR, health_only=False,
                                     health_notice_sent_on=date(2026, 11, 25))

    assert health_only.mediate_by == date(2026, 12, 25)
    assert with_education.mediate_by == date(2026, 12, 20)  # the LA arranges: 30 days from being told


def test_r4_late_contact_is_judged_on_the_day_the_adviser_was_first_contacted_not_the_day_the_la_was_told():
    in_time = rules.deadlines(CaseKind.mediation, notice_sent_on=date(2026, 9, 1), told_on=date(2026, 11, 20),
                              calendar=DEFAULT_CALENDAR, adviser_contacted_on=date(2026, 10, 15))
    late = rules.deadlines(CaseKind.mediation, notice_sent_on=date(2026, 9, 1), told_on=date(2026, 10, 15),
                           calendar=DEFAULT_CALENDAR, adviser_contacted_on=date(2026, 11, 2))

    assert in_time.contact_window_ends_on == date(2026, 11, 1)
    assert (in_time.late_contact, late.late_contact) == (False, True)


def test_r2_health_only_mediation_has_no_appeal_deadline():
    assert rules.appeal(notice_sent_on=date(2026, 11, 3), certificate_issued_on=None, health_only=True) is None


def explained(**overrides):
    facts = dict(kind=CaseKind.mediation, notice_sent_on=date(2027, 1, 15), told_on=date(2027, 1, 18),
                 adviser_contacted_on=None, health_issues=False, health_only=False, health_notice_sent_on=None,
                 certificate_issued_on=None, calendar=DEFAULT_CALENDAR)
    facts.update(overrides)
    return {e.name: e for e in rules.explain(**facts)}


def test_r17_the_explained_appeal_deadline_names_the_rule_the_trigger_and_each_step():
    deadline = explained()["appeal_deadline"]

    assert (deadline.rule, deadline.date, deadline.trigger, deadline.trigger_date) == (
        "R17", date(2027, 3, 15), "notice_sent_on", date(2027, 1, 15))
    assert deadline.steps == ("notice sent Fri 15 Jan 2027 + 2 months = Mon 15 Mar 2027",
                              "received by the Tribunal by 5pm (HESC 12(1))")


def test_r17_a_later_certificate_is_the_trigger_and_a_weekend_moves_the_day():
    deadline = explained(certificate_issued_on=date(2027, 2, 20))["appeal_deadline"]

    assert (deadline.date, deadline.trigger) == (date(2027, 3, 22), "certificate_issued_on")
    assert deadline.steps[1:] == ("certificate issued Sat 20 Feb 2027 + 1 month = Sat 20 Mar 2027",
                                  "the later is Sat 20 Mar 2027",
                                  "Sat 20 Mar 2027 is not a working day -> the next working day, Mon 22 Mar 2027 "
                                  "(HESC 12(2))", "received by the Tribunal by 5pm (HESC 12(1))")


def test_r9_and_r11_the_last_bookable_day_and_the_latest_notice_day_are_explained_from_mediate_by():
    dates = explained(told_on=date(2026, 11, 20))

    assert dates["mediate_by"].date == date(2026, 12, 20)  # Sun: not moved (T5)
    assert dates["last_bookable_day"].date == date(2026, 12, 18)
    assert dates["last_bookable_day"].steps == (
        "Sun 20 Dec 2026 is not a working day -> the working day before, Fri 18 Dec 2026",)
    assert (dates["latest_notice_day"].rule, dates["latest_notice_day"].date) == ("R11", date(2026, 12, 10))


def test_r8_the_explained_mediate_by_of_a_health_only_case_runs_from_the_health_notice():
    dates = explained(health_issues=True, health_only=True, health_notice_sent_on=date(2027, 1, 20))

    assert (dates["mediate_by"].trigger, dates["mediate_by"].date) == ("health_notice_sent_on", date(2027, 2, 19))
    assert dates["health_bodies_told_by"].date == date(2027, 1, 21)  # LA told Mon 18 Jan + 3 working days
    assert (dates["appeal_deadline"].rule, dates["appeal_deadline"].date) == ("R2", None)


def test_r4_the_contact_window_is_explained_and_never_moves():
    window = explained(notice_sent_on=date(2026, 11, 3), told_on=date(2026, 11, 20))["contact_window_ends_on"]

    assert (window.rule, window.date) == ("R4", date(2027, 1, 3))  # a Sunday: stays (T5)
    assert window.steps[0] == "notice sent Tue 3 Nov 2026 + 2 months = Sun 3 Jan 2027"
