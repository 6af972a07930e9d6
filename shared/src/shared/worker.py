"""A background loop over a durable table, woken after a commit and polling as a safety net.

The outbox relay, the certificate issuer and the email sender are all workers:
their work is rows in the database, so a crash loses nothing and a restart
picks up where it stopped.

A step that fails because a dependency is down (``shared.outage``) is retried
at least once a second, so work resumes within about a second of the database
or broker returning; any other failure backs off further (up to ``max_backoff``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from shared.logging import get_logger
from shared.metrics import WORKER_FAILURES
from shared.outage import is_outage

log = get_logger(__name__)

#: One step does a bounded amount of work and returns True if more is waiting.
Step = Callable[[], Awaitable[bool]]


class Worker:
    def __init__(self, name: str, step: Step, *, service: str, poll_interval: float, max_backoff: float = 30.0,
                 outage_backoff: float = 1.0) -> None:
        self.name = name
        self._step = step
        self._service = service
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._outage_backoff = outage_backoff
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        while True:
            self._wakeup.clear()
            try:
                more = await self._step()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                WORKER_FAILURES.labels(self._service, self.name).inc()
                if not is_outage(exc):
                    log.exception("worker.step_failed", worker=self.name, failures=failures)
                    await asyncio.sleep(min(self._max_backoff, 0.5 * 2 ** min(failures, 8)))
                    continue
                log.warning("worker.dependency_unavailable", worker=self.name, failures=failures,
                            error=type(exc).__name__)
                # A commit that needs this worker proves the database is back: it cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=min(self._outage_backoff, 0.1 * 2 ** min(failures, 8)))
                continue
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_interval)
