"""R17: the appeal deadline (HESC rules 12 and 20(1)(c))."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.calendar import appeal_deadline


def test_r17_without_a_certificate_the_deadline_is_two_months_after_the_notice():
    deadline = appeal_deadline(notice_sent_on=date(2026, 3, 4), certificate_issued_on=None)

    assert deadline.day == date(2026, 5, 5)  # 4 May 2026 is the May Day bank holiday: next working day


def test_r17_the_later_of_notice_plus_two_months_and_certificate_plus_one_month_wins():
    deadline = appeal_deadline(notice_sent_on=date(2026, 9, 1), certificate_issued_on=date(2026, 10, 20))

    assert deadline.day == date(2026, 11, 20)  # B = 20 Nov (Fri) is later than A = 1 Nov


def test_r17_an_earlier_certificate_does_not_shorten_the_notice_deadline():
    deadline = appeal_deadline(notice_sent_on=date(2026, 9, 10), certificate_issued_on=date(2026, 9, 20))

    assert deadline.day == date(2026, 11, 10)


def test_r17_a_deadline_between_25_december_and_1_january_moves_to_the_first_working_day_after_1_january():
    deadline = appeal_deadline(notice_sent_on=date(2026, 10, 27), certificate_issued_on=None)

    assert deadline.unmoved == date(2026, 12, 27)
    assert deadline.day == date(2027, 1, 4)  # Fri 1 Jan is a bank holiday, 2-3 Jan a weekend


def test_r17_a_deadline_on_1_january_also_moves():
    deadline = appeal_deadline(notice_sent_on=date(2026, 11, 1), certificate_issued_on=date(2026, 12, 1))

    assert deadline.day == date(2027, 1, 4)


def test_r17_a_deadline_in_august_moves_to_the_first_working_day_after_31_august():
    deadline = appeal_deadline(notice_sent_on=date(2027, 6, 10), certificate_issued_on=None)

    assert deadline.unmoved == date(2027, 8, 10)
    assert deadline.day == date(2027, 9, 1)


def test_r17_when_31_august_is_a_bank_holiday_the_august_move_still_lands_on_1_september():
    deadline = appeal_deadline(notice_sent_on=date(2026, 6, 30), certificate_issued_on=None)

    assert deadline.unmoved == date(2026, 8, 30)
    assert deadline.day == date(2026, 9, 1)  # 31 Aug 2026 is the late summer bank holiday


def test_r17_a_deadline_on_a_weekend_moves_to_the_next_working_day():
    deadline = appeal_deadline(notice_sent_on=date(2026, 9, 7), certificate_issued_on=None)

    assert deadline.unmoved == date(2026, 11, 7)  # a Saturday
    assert deadline.day == date(2026, 11, 9)


def test_r17_the_tribunal_must_receive_the_appeal_by_5pm_london_time():
    deadline = appeal_deadline(notice_sent_on=date(2026, 9, 10), certificate_issued_on=None)

    assert deadline.receive_by == datetime(2026, 11, 10, 17, 0, tzinfo=ZoneInfo("Europe/London"))


def test_r17_the_steps_say_the_christmas_move_goes_to_the_first_working_day_after_1_january():
    deadline = appeal_deadline(notice_sent_on=date(2026, 10, 27), certificate_issued_on=None)

    assert deadline.steps == (
        "notice sent Tue 27 Oct 2026 + 2 months = Sun 27 Dec 2026",
        "Sun 27 Dec 2026 falls between 25 Dec and 1 Jan -> the first working day after 1 Jan, Mon 4 Jan 2027 "
        "(HESC 12(3)(a))",
        "received by the Tribunal by 5pm (HESC 12(1))")


def test_r17_the_steps_say_an_august_deadline_goes_to_the_first_working_day_after_31_august():
    deadline = appeal_deadline(notice_sent_on=date(2027, 6, 10), certificate_issued_on=None)

    assert deadline.steps[1] == ("Tue 10 Aug 2027 falls in August -> the first working day after 31 Aug, "
                                 "Wed 1 Sep 2027 (HESC 12(3)(a))")
