"""Public verification: the verification code, the surname and the per-IP token bucket."""

from __future__ import annotations

import pytest

from certificates.certificate.service import Issuing
from certificates.certificate.verification import (
    CODE_ALPHABET,
    CODE_BITS,
    TokenBucket,
    code_matches,
    new_verification_code,
    surname_matches,
)


@pytest.mark.parametrize(
    ("full_name", "given"),
    [
        ("Alex Example", "Example"),
        ("Alex Example", "  example "),
        ("Alex Example", "Alex Example"),
        ("Zoë O'Brien-Smith", "o'brien-SMITH"),
        ("Zoë Brontë", "bronte"),
        ("Sam O’Neill", "ONeill"),
        ("Alex van der Berg", "van der Berg"),
    ],
)
def test_the_surname_matches_ignoring_case_accents_and_punctuation(full_name, given):
    assert surname_matches(full_name, given)


@pytest.mark.parametrize(
    ("full_name", "given"),
    [
        ("Alex Example", "Alex"),
        ("Alex Example", "Exampel"),
        ("Alex Example", ""),
        ("Alex Example", "Someone Alex Example"),
        ("", "Example"),
    ],
)
def test_a_first_name_a_typo_or_nothing_does_not_match(full_name, given):
    assert not surname_matches(full_name, given)


def test_a_client_gets_its_burst_then_waits_for_the_refill():
    bucket = TokenBucket(burst=3, per_minute=6)  # one token every 10 s

    allowed = [bucket.take("203.0.113.7", now=100.0) for _ in range(3)]
    refused = bucket.take("203.0.113.7", now=100.0)
    later = bucket.take("203.0.113.7", now=110.0)

    assert allowed == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(10.0)
    assert later == 0.0


def test_one_client_exhausting_its_bucket_does_not_limit_another():
    bucket = TokenBucket(burst=1, per_minute=1)
    bucket.take("203.0.113.7", now=0.0)

    assert bucket.take("203.0.113.7", now=0.0) > 0
    assert bucket.take("198.51.100.1", now=0.0) == 0.0


def test_a_verification_code_has_75_random_bits_in_three_typable_groups():
    codes = {new_verification_code() for _ in range(200)}

    assert CODE_BITS >= 60
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [5, 5, 5]
        assert set("".join(groups)) <= set(CODE_ALPHABET)


def test_a_code_matches_as_typed_in_any_case_with_spaces_and_misread_letters():
    assert code_matches("7Q2KD-M9XH0-41RWB", "7q2kd m9xho 4lrwb")
    assert code_matches("7Q2KD-M9XH0-41RWB", "7Q2KDM9XH041RWB")
    assert not code_matches("7Q2KD-M9XH0-41RWB", "7Q2KD-M9XH0-41RWC")
    assert not code_matches(None, "7Q2KD-M9XH0-41RWB")


def test_the_qr_code_link_carries_the_number_and_the_verification_code():
    issuing = Issuing(number_prefix="MC", public_base_url="https://certificates.example/", documents=None)  # type: ignore[arg-type]

    assert issuing.verification_url("MC-2026-000042-5", "7Q2KD-M9XHE-4TRWB") == (
        "https://certificates.example/v1/verify?number=MC-2026-000042-5&code=7Q2KD-M9XHE-4TRWB")
