"""The working-day calendar's overrides are data (docs/rules.md: the calendar is data)."""

from datetime import date

import pytest

from shared.calendar import load_calendar


def test_a_newly_proclaimed_bank_holiday_in_the_overrides_file_is_not_a_working_day(tmp_path):
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text("extra_holidays: [2027-06-07]\nnot_holidays: [2027-05-31]\n")

    calendar = load_calendar(str(overrides))

    assert calendar.is_working_day(date(2027, 6, 7)) is False
    assert calendar.is_working_day(date(2027, 5, 31)) is True  # the spring bank holiday, moved away
    assert calendar.add_working_days(date(2027, 6, 4), 1) == date(2027, 6, 8)


def test_an_overrides_file_with_an_unknown_key_is_refused(tmp_path):
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text("extra_holiday: [2027-06-07]\n")

    with pytest.raises(ValueError, match="extra_holiday"):
        load_calendar(str(overrides))


def test_without_overrides_the_calendar_is_the_maintained_library_alone(monkeypatch):
    monkeypatch.delenv("SEND_CALENDAR_OVERRIDES", raising=False)

    assert load_calendar().is_working_day(date(2027, 5, 31)) is False
