"""Outbound webhook retries: the Standard Webhooks schedule, jitter and Retry-After."""

import pytest

from scheduling.outbound.service import retry_delay
from scheduling.settings import SchedulingSettings

SCHEDULE = SchedulingSettings(database_url="sqlite+aiosqlite://").webhook_retry_schedule_seconds


def test_the_default_schedule_is_now_5s_5min_30min_2h_5h_10h_14h_20h_24h():
    assert SCHEDULE == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


@pytest.mark.parametrize(("failures", "expected"), [(1, 5), (2, 300), (9, 86400)])
def test_each_failure_waits_the_next_step_of_the_schedule(failures, expected):
    assert retry_delay(failures, SCHEDULE, jitter=0, retry_after=None) == expected


def test_the_schedule_exhausted_means_no_more_retries():
    assert retry_delay(len(SCHEDULE), SCHEDULE, jitter=0, retry_after=None) is None


def test_jitter_stays_within_its_bounds():
    delays = {retry_delay(2, SCHEDULE, jitter=0.1, retry_after=None) for _ in range(200)}

    assert all(270 <= d <= 330 for d in delays)
    assert len(delays) > 1


def test_retry_after_is_honoured_when_longer_than_the_schedule():
    assert retry_delay(1, SCHEDULE, jitter=0, retry_after=120) == 120
    assert retry_delay(2, SCHEDULE, jitter=0, retry_after=10) == 300
