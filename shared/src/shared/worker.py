"""A background loop over a durable table, woken after a commit and polling as a safety net.

The outbox relay, the certificate issuer and the email sender are all workers:
their work is rows in the database, so a crash loses nothing and a restart
picks up where it stopped.

The safety-net poll backs off while there is nothing to do, doubling from
``poll_interval`` up to ``IDLE_POLL_CEILING`` seconds (never below the poll
interval itself): an idle service does not wake every second for ever. A wake-up
(a commit in this process) or a step that found work starts again from
``poll_interval``. Work committed by another process (a second replica, a
split API/worker deployment) therefore waits at most the ceiling at idle.

A step that fails because a dependency is down (``shared.outage``) is retried
at least once a second, so work resumes within about a second of the database
or broker returning; any other failure backs off further (up to ``max_backoff``).

An item that fails is the step's own business (``shared.poison`` parks it and
the step moves on): a step that itself keeps failing, for a reason that is not an
outage, is a stuck worker. ``status()`` says so once it has lasted
``stuck_after`` seconds, for ``/readyz`` and the ``worker_stuck`` metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from shared.logging import get_logger
from shared.metrics import WORKER_FAILURES, WORKER_STUCK
from shared.outage import is_outage

log = get_logger(__name__)

#: Seconds an idle worker's safety-net poll backs off to (see the module docstring).
IDLE_POLL_CEILING = 8.0

#: One step does a bounded amount of work and returns True if more is waiting.
Step = Callable[[], Awaitable[bool]]


class Worker:
    def __init__(self, name: str, step: Step, *, service: str, poll_interval: float, max_backoff: float = 30.0,
                 outage_backoff: float = 1.0, stuck_after: float = 300.0, gather_seconds: float = 0.0) -> None:
        self.name = name
        self.stuck_after = stuck_after
        #: Monotonic seconds (an operational duration, never domain time) of the last step that worked and of
        #: the first of the failures since.
        self.last_success_at: float | None = None
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self._step = step
        self._service = service
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._outage_backoff = outage_backoff
        #: How long a woken worker waits before its step, so that the commits just behind the one that woke it
        #: are taken in the same step (one transaction, one broker request) rather than one step each.
        self._gather_seconds = gather_seconds
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        idle_wait = self._poll_interval
        while True:
            self._wakeup.clear()
            try:
                more = await self._step()
                failures = 0
                self.last_success_at, self.failing_since, self.last_error = time.monotonic(), None, None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                WORKER_FAILURES.labels(self._service, self.name).inc()
                if not is_outage(exc):
                    self.failing_since = self.failing_since or time.monotonic()
                    self.last_error = type(exc).__name__
                    log.exception("worker.step_failed", worker=self.name, failures=failures)
                    await asyncio.sleep(min(self._max_backoff, 0.5 * 2 ** min(failures, 8)))
                    continue
                self.failing_since = None  # an outage is reported as such (database, kafka), not as a stuck worker
                log.warning("worker.dependency_unavailable", worker=self.name, failures=failures,
                            error=type(exc).__name__)
                # A commit that needs this worker proves the database is back: it cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=min(self._outage_backoff, 0.1 * 2 ** min(failures, 8)))
                continue
            if more:
                idle_wait = self._poll_interval
                continue
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=idle_wait)
                idle_wait = self._poll_interval
                if self._gather_seconds:
                    await asyncio.sleep(self._gather_seconds)
            except TimeoutError:
                idle_wait = min(max(self._poll_interval, IDLE_POLL_CEILING), idle_wait * 2)

    def stuck_for(self) -> float | None:
        """Seconds this worker has been failing (not for an outage), once past ``stuck_after``; else None."""
        if self.failing_since is None:
            return None
        seconds = time.monotonic() - self.failing_since
        return seconds if seconds >= self.stuck_after else None

    def status(self) -> str:
        stuck = self.stuck_for()
        WORKER_STUCK.labels(self._service, self.name).set(0 if stuck is None else 1)
        if stuck is not None:
            return f"stuck: failing for {int(stuck)}s ({self.last_error})"
        return "ok"

    def detail(self) -> dict[str, object]:
        """For ``/readyz``: the status, and how long ago the last step worked."""
        ago = None if self.last_success_at is None else round(time.monotonic() - self.last_success_at, 1)
        return {"status": self.status(), "last_success_seconds_ago": ago}
