"""``python -m shared.serve``: uvicorn with a once-a-second housekeeping tick, stopped at once by a signal."""

from __future__ import annotations

import asyncio
import signal

import pytest
import uvicorn
from fastapi import FastAPI

from shared import serve


def server() -> serve.QuietServer:
    return serve.QuietServer(uvicorn.Config(FastAPI(), log_config=None))


async def test_the_once_a_second_housekeeping_runs_at_every_wake_up(monkeypatch):
    monkeypatch.setattr(serve, "TICK_SECONDS", 0.01)
    quiet = server()
    counters: list[int] = []

    async def on_tick(counter: int) -> bool:
        counters.append(counter)
        return len(counters) == 4

    monkeypatch.setattr(quiet, "on_tick", on_tick)
    await asyncio.wait_for(quiet.main_loop(), timeout=30)  # a deadline, not a speed check
    # uvicorn refreshes the Date header (and notifies) when its count of tenths is a multiple of 10.
    assert counters == [0, 10, 20, 30]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_while_the_loop_waits_stops_it_without_waiting_for_the_tick(monkeypatch, sig):
    monkeypatch.setattr(serve, "TICK_SECONDS", 3600.0)  # were the wait not cut short, the deadline below fails
    quiet = server()
    running = asyncio.create_task(quiet.main_loop())
    while quiet._stop_asked is None:  # the loop has begun waiting
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    quiet.handle_exit(sig, None)
    await asyncio.wait_for(running, timeout=30)
    assert quiet.should_exit


async def test_a_signal_before_the_loop_begins_stops_it_at_its_first_tick(monkeypatch):
    monkeypatch.setattr(serve, "TICK_SECONDS", 3600.0)
    quiet = server()
    quiet.handle_exit(signal.SIGTERM, None)
    await asyncio.wait_for(quiet.main_loop(), timeout=30)
