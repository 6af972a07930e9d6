"""The project's one clock: UTC instants, England's date, moved only forward by tests and scenario clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake.settings import IntakeSettings
from shared import clock
from shared.clock import Clock
from shared.testing.plugin import suite_now


def test_today_is_the_london_date_half_an_hour_after_midnight_bst():
    frozen = Clock()
    frozen.set(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False)

    assert frozen.today() == date(2026, 7, 2)
    assert frozen.now().date() == date(2026, 7, 1)


def test_today_is_the_utc_date_in_winter_when_london_keeps_gmt():
    frozen = Clock()
    frozen.set(datetime(2026, 12, 24, 23, 30, tzinfo=UTC), tick=False)

    assert frozen.today() == date(2026, 12, 24)


def test_the_day_bst_begins_counts_as_one_london_day():
    frozen = Clock()
    frozen.set(datetime(2027, 3, 28, 0, 59, tzinfo=UTC), tick=False)  # 00:59 GMT, one minute before BST
    before = frozen.today()
    frozen.advance(timedelta(minutes=2))  # 02:01 BST

    assert before == frozen.today() == date(2027, 3, 28)


def test_a_set_clock_ticks_on_in_real_time_from_its_instant():
    ticking = Clock()
    ticking.set(datetime(2026, 8, 14, 9, 0, tzinfo=UTC))

    assert timedelta(0) <= ticking.now() - datetime(2026, 8, 14, 9, 0, tzinfo=UTC) < timedelta(minutes=1)


def test_every_move_tells_the_listeners_and_reset_returns_to_real_time():
    moved: list[datetime] = []
    ticking = Clock()
    remove = ticking.on_change(lambda: moved.append(ticking.now()))

    ticking.advance(timedelta(days=3))
    remove()
    ticking.reset()

    assert len(moved) == 1
    assert abs(ticking.now() - clock.real_now()) < timedelta(seconds=5)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        Clock().set(datetime(2026, 7, 1, 23, 30))


def test_every_test_starts_at_the_suites_instant_not_the_day_it_runs():
    assert timedelta(0) <= clock.now() - suite_now() < timedelta(minutes=1)


@pytest.mark.clock("2026-07-01T23:30:00+00:00")
def test_a_test_can_start_at_its_own_instant():
    assert clock.today() == date(2026, 7, 2)


def test_production_settings_refuse_a_scenario_clock():
    with pytest.raises(ValidationError, match="scenario clock cannot run with production settings"):
        IntakeSettings(database_url="postgresql+asyncpg://db/intake", environment="production",
                       scenario_clock="staging", api_clients={})


def test_a_staging_deployment_may_follow_a_scenario_clock():
    settings = IntakeSettings(database_url="sqlite+aiosqlite:///intake.db", environment="development",
                              scenario_clock="staging")

    assert settings.scenario_clock == "staging"
