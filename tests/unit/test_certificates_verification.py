"""Public verification: the surname second factor and the per-IP token bucket."""

from __future__ import annotations

import pytest

from certificates.certificate.verification import TokenBucket, surname_matches


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
