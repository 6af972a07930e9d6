"""R16: every certificate carries a unique, checkable number MC-YYYY-NNNNNN-C."""

from __future__ import annotations

import re

from stdnum import luhn

from certificates.certificate.service import certificate_number


def test_r16_certificate_number_has_prefix_year_six_digit_serial_and_check_digit():
    number = certificate_number("MC", 2026, 42)

    assert re.fullmatch(r"MC-\d{4}-\d{6}-\d", number)
    assert number.startswith("MC-2026-000042-")


def test_r16_check_digit_is_the_luhn_digit_over_year_and_serial():
    number = certificate_number("MC", 2026, 42)

    assert number == "MC-2026-000042-5"  # 2026000042: 4+4+0+0+0+0+3+2+0+2 = 15 -> 5


def test_r16_another_hand_computed_check_digit():
    number = certificate_number("MC", 2027, 1)

    assert number == "MC-2027-000001-9"  # 2027000001: 2+0+0+0+0+0+5+2+0+2 = 11 -> 9


def test_r16_check_digit_validates_with_luhn():
    _, year, serial, check = certificate_number("MC", 2026, 123456).split("-")

    assert luhn.is_valid(year + serial + check)


def test_r16_a_mistyped_digit_fails_the_luhn_check():
    _, year, serial, check = certificate_number("MC", 2026, 123456).split("-")
    mistyped = serial[:-1] + str((int(serial[-1]) + 1) % 10)

    assert not luhn.is_valid(year + mistyped + check)


def test_r16_different_serials_give_different_numbers():
    numbers = {certificate_number("MC", 2026, serial) for serial in range(1, 1001)}

    assert len(numbers) == 1000


def test_r16_the_same_serial_in_different_years_gives_different_numbers():
    assert certificate_number("MC", 2026, 7) != certificate_number("MC", 2027, 7)


def test_r16_the_prefix_comes_from_settings():
    assert certificate_number("TEST", 2026, 42) == "TEST-2026-000042-5"
