"""A worker whose database is down tries again at least once a second, so it resumes as soon as it returns."""

from __future__ import annotations

import asyncio
import time

from shared.worker import Worker


async def test_a_worker_resumes_within_about_a_second_of_a_long_outage_ending():
    outage_ends = time.monotonic() + 8  # an uncapped backoff would next try at 15 s
    resumed: list[float] = []

    async def step() -> bool:
        if time.monotonic() < outage_ends:
            raise ConnectionRefusedError(111, "Connection refused")
        resumed.append(time.monotonic())
        return False

    task = asyncio.create_task(Worker("relay", step, service="test", poll_interval=3600).run())
    try:
        while not resumed and time.monotonic() < outage_ends + 10:
            await asyncio.sleep(0.05)
    finally:
        task.cancel()

    assert resumed and resumed[0] - outage_ends < 1.5


async def test_a_failing_step_that_is_no_outage_still_backs_off():
    calls: list[float] = []

    async def step() -> bool:
        calls.append(time.monotonic())
        raise ValueError("a bug, not an outage")

    task = asyncio.create_task(Worker("relay", step, service="test", poll_interval=3600).run())
    await asyncio.sleep(3.5)
    task.cancel()

    assert len(calls) <= 3  # 1 s, 2 s, 4 s apart: not hammering
