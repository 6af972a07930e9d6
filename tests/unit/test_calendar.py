"""Working days and calendar arithmetic (docs/rules.md T1-T5, "Working days"), tested per year as data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.calendar import WorkingDayCalendar, add_days, add_months

BANK_HOLIDAYS_2026 = {
    date(2026, 1, 1),
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),  # substitute for Boxing Day (Saturday 26 Dec)
}

BANK_HOLIDAYS_2027 = {
    date(2027, 1, 1),
    date(2027, 3, 26),  # Good Friday
    date(2027, 3, 29),  # Easter Monday
    date(2027, 5, 3),
    date(2027, 5, 31),
    date(2027, 8, 30),
    date(2027, 12, 27),  # substitute for Christmas Day (Saturday)
    date(2027, 12, 28),  # substitute for Boxing Day (Sunday)
}


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def weekdays_that_are_not_working_days(calendar: WorkingDayCalendar, year: int) -> set[date]:
    day, result = date(year, 1, 1), set()
    while day.year == year:
        if day.weekday() < 5 and not calendar.is_working_day(day):
            result.add(day)
        day += timedelta(days=1)
    return result


@pytest.mark.parametrize(
    ("year", "expected"), [(2026, BANK_HOLIDAYS_2026), (2027, BANK_HOLIDAYS_2027)], ids=["2026", "2027"]
)
def test_the_only_weekdays_that_are_not_working_days_are_the_year_s_bank_holidays(calendar, year, expected):
    non_working = weekdays_that_are_not_working_days(calendar, year)

    assert non_working == expected


@pytest.mark.parametrize("day", sorted(BANK_HOLIDAYS_2026 | BANK_HOLIDAYS_2027), ids=str)
def test_each_listed_bank_holiday_is_a_bank_holiday_and_not_a_working_day(calendar, day):
    assert calendar.is_bank_holiday(day) is True
    assert calendar.is_working_day(day) is False


def test_boxing_day_2026_substitute_is_monday_28_december(calendar):
    assert calendar.is_working_day(date(2026, 12, 28)) is False
    assert calendar.is_working_day(date(2026, 12, 29)) is True


def test_christmas_2027_substitutes_are_monday_27_and_tuesday_28_december(calendar):
    assert [calendar.is_working_day(date(2027, 12, d)) for d in (27, 28, 29)] == [False, False, True]


def test_new_year_2028_substitute_is_monday_3_january(calendar):
    assert calendar.is_working_day(date(2028, 1, 3)) is False


def test_weekends_are_not_working_days(calendar):
    assert calendar.is_working_day(date(2026, 3, 7)) is False  # Saturday
    assert calendar.is_working_day(date(2026, 3, 8)) is False  # Sunday
    assert calendar.is_working_day(date(2026, 3, 9)) is True  # Monday


@pytest.mark.parametrize("day", [date(2026, 8, 3), date(2026, 8, 14), date(2026, 8, 28), date(2027, 8, 2)], ids=str)
def test_august_weekdays_are_working_days_for_mediation_timescales(calendar, day):
    assert calendar.is_working_day(day) is True


@pytest.mark.parametrize("day", [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)], ids=str)
def test_days_between_christmas_and_new_year_that_are_not_bank_holidays_are_working_days(calendar, day):
    assert calendar.is_working_day(day) is True


# T3: "within N working days" = the Nth working day after the trigger.


def test_t3_trigger_day_is_not_counted(calendar):
    due = calendar.add_working_days(date(2026, 3, 9), 3)  # Monday

    assert due == date(2026, 3, 12)  # Thursday


def test_t3_friday_trigger_plus_one_working_day_is_monday(calendar):
    due = calendar.add_working_days(date(2026, 3, 13), 1)

    assert due == date(2026, 3, 16)


def test_t3_count_skips_good_friday_and_easter_monday(calendar):
    due = calendar.add_working_days(date(2026, 4, 2), 3)  # Thursday before Easter

    assert due == date(2026, 4, 9)  # Tue 7, Wed 8, Thu 9


def test_t3_count_skips_christmas_day_and_the_boxing_day_substitute(calendar):
    due = calendar.add_working_days(date(2026, 12, 24), 3)

    assert due == date(2026, 12, 31)  # Tue 29, Wed 30, Thu 31


def test_t3_count_skips_both_2027_christmas_substitutes(calendar):
    due = calendar.add_working_days(date(2027, 12, 24), 3)

    assert due == date(2027, 12, 31)  # Wed 29, Thu 30, Fri 31


def test_t3_count_skips_the_late_summer_bank_holiday(calendar):
    due = calendar.add_working_days(date(2026, 8, 28), 1)

    assert due == date(2026, 9, 1)


@pytest.mark.parametrize("trigger", [date(2026, 3, 7), date(2026, 3, 8)], ids=["saturday", "sunday"])
def test_t3_trigger_on_a_weekend_counts_from_the_next_working_day(calendar, trigger):
    due = calendar.add_working_days(trigger, 3)

    assert due == date(2026, 3, 11)  # Mon 9, Tue 10, Wed 11


def test_t3_trigger_on_a_bank_holiday_counts_from_the_next_working_day(calendar):
    due = calendar.add_working_days(date(2026, 4, 6), 1)  # Easter Monday

    assert due == date(2026, 4, 7)


def test_t3_count_through_august_does_not_skip_august_days(calendar):
    due = calendar.add_working_days(date(2026, 8, 7), 3)  # Friday

    assert due == date(2026, 8, 12)  # Mon 10, Tue 11, Wed 12


# T4: "at least N working days before" = N clear working days.


def test_t4_neither_the_notice_day_nor_the_event_day_counts(calendar):
    assert calendar.clear_working_days_between(date(2026, 3, 9), date(2026, 3, 10)) == 0
    assert calendar.clear_working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0


def test_t4_clear_working_days_exclude_the_weekend(calendar):
    assert calendar.clear_working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 4
    assert calendar.clear_working_days_between(date(2026, 3, 2), date(2026, 3, 10)) == 5


def test_t4_clear_working_days_exclude_christmas_and_new_year_bank_holidays(calendar):
    assert calendar.clear_working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 3  # 29, 30, 31 Dec
    assert calendar.clear_working_days_between(date(2026, 12, 24), date(2027, 1, 6)) == 5  # + 4, 5 Jan


# Nearest working days.


def test_latest_working_day_on_or_before_a_working_day_is_that_day(calendar):
    assert calendar.latest_working_day_on_or_before(date(2026, 12, 31)) == date(2026, 12, 31)


def test_latest_working_day_on_or_before_skips_back_over_weekend_and_new_year(calendar):
    assert calendar.latest_working_day_on_or_before(date(2027, 1, 3)) == date(2026, 12, 31)


def test_latest_working_day_on_or_before_the_boxing_day_substitute_is_christmas_eve(calendar):
    assert calendar.latest_working_day_on_or_before(date(2026, 12, 28)) == date(2026, 12, 24)


def test_next_working_day_on_or_after_a_working_day_is_that_day(calendar):
    assert calendar.next_working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 24)


def test_next_working_day_on_or_after_christmas_day_2026_is_29_december(calendar):
    assert calendar.next_working_day_on_or_after(date(2026, 12, 25)) == date(2026, 12, 29)


def test_next_working_day_on_or_after_good_friday_is_the_tuesday_after_easter(calendar):
    assert calendar.next_working_day_on_or_after(date(2026, 4, 3)) == date(2026, 4, 7)


# Overrides as data.


def test_an_extra_holiday_is_not_a_working_day_and_is_skipped_in_a_count():
    calendar = WorkingDayCalendar(extra_holidays=[date(2026, 6, 15)])

    due = calendar.add_working_days(date(2026, 6, 12), 1)  # Friday

    assert calendar.is_working_day(date(2026, 6, 15)) is False
    assert due == date(2026, 6, 16)


def test_a_removed_bank_holiday_becomes_a_working_day():
    calendar = WorkingDayCalendar(not_holidays=[date(2026, 5, 4)])

    due = calendar.add_working_days(date(2026, 5, 1), 1)  # Friday

    assert calendar.is_bank_holiday(date(2026, 5, 4)) is False
    assert calendar.is_working_day(date(2026, 5, 4)) is True
    assert due == date(2026, 5, 4)


def test_overrides_do_not_change_the_default_calendar():
    WorkingDayCalendar(extra_holidays=[date(2026, 6, 15)], not_holidays=[date(2026, 5, 4)])

    calendar = WorkingDayCalendar()

    assert calendar.is_working_day(date(2026, 6, 15)) is True
    assert calendar.is_working_day(date(2026, 5, 4)) is False


def test_removing_a_bank_holiday_does_not_make_a_weekend_a_working_day():
    calendar = WorkingDayCalendar(not_holidays=[date(2026, 12, 26)])  # Boxing Day, a Saturday

    assert calendar.is_working_day(date(2026, 12, 26)) is False


# T1 and T2.


def test_t1_within_30_days_is_trigger_plus_30_calendar_days():
    assert add_days(date(2026, 1, 1), 30) == date(2026, 1, 31)


def test_t1_a_deadline_on_a_weekend_is_not_moved():
    assert add_days(date(2026, 4, 3), 30) == date(2026, 5, 3)  # a Sunday


def test_t2_corresponding_date_4_march_plus_2_months_is_4_may():
    assert add_months(date(2026, 3, 4), 2) == date(2026, 5, 4)


def test_t2_31_december_plus_2_months_is_28_february_in_a_common_year():
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_t2_31_december_plus_2_months_is_29_february_in_a_leap_year():
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)


def test_t2_31_august_plus_1_month_is_30_september():
    assert add_months(date(2026, 8, 31), 1) == date(2026, 9, 30)


def test_t2_29_february_plus_12_months_is_28_february():
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
