"""The dispatcher worker: one attempt per message per transaction, so a crash repeats at most one
delivery, under the same webhook-id.

One HTTP client (its connection pool and TLS context) serves the service's lifetime: it is made at the
first message due, not on every poll, and closed on shutdown.
"""

from __future__ import annotations

import httpx

from scheduling.outbound import service as outbound_service
from scheduling.settings import SchedulingSettings
from shared import clock
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 20


def make_step(runtime: ServiceRuntime) -> Step:
    settings: SchedulingSettings = runtime.settings  # type: ignore[assignment]
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        if not clients:
            clients.append(httpx.AsyncClient(timeout=settings.webhook_timeout_seconds))
            runtime.resources.push_async_callback(clients[0].aclose)
        return clients[0]

    async def dispatch_due_webhooks() -> bool:
        for _ in range(BATCH):
            async with runtime.sessionmaker() as session:
                due = await outbound_service.next_due(session, clock.now())
                if due is None:
                    return False
                await outbound_service.deliver(session, *due, client=client(),
                                               schedule=settings.webhook_retry_schedule_seconds,
                                               jitter=settings.webhook_retry_jitter)
                await session.commit()
        return True

    return dispatch_due_webhooks
