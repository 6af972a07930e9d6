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


async def test_a_woken_worker_that_gathers_takes_the_commits_just_behind_in_one_step():
    steps: list[float] = []

    async def step() -> bool:
        steps.append(time.monotonic())
        return False

    worker = Worker("relay", step, service="test", poll_interval=3600, gather_seconds=1.0)
    task = asyncio.create_task(worker.run())
    try:
        while not steps:  # the first step, at start
            await asyncio.sleep(0.01)
        for _ in range(3):  # three commits a moment apart, each waking it
            worker.wake()
            await asyncio.sleep(0.05)
        while len(steps) < 2:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()

    assert len(steps) == 2  # one step for the three, not one each
