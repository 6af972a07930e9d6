"""The dispatcher worker: one attempt per message per transaction, so a crash repeats at most one
delivery, under the same webhook-id.

A message whose attempt fails for a reason that is not an outage or an HTTP
answer (its data, a bug) is tried again later and parked after bounded tries
(``shared.poison``), while the dispatcher goes on with the messages behind it.

One HTTP client (its connection pool and TLS context) serves the service's lifetime: it is made at the
first message due, not on every poll, and closed on shutdown.
"""

from __future__ import annotations

import httpx

from scheduling.outbound import service as outbound_service
from scheduling.outbound.models import WebhookMessage
from scheduling.outbound.service import DISPATCHER
from scheduling.settings import SchedulingSettings
from shared import clock, poison
from shared.outage import is_outage
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 20


def make_step(runtime: ServiceRuntime) -> Step:
    settings: SchedulingSettings = runtime.settings  # type: ignore[assignment]
    park = outbound_service.ParkSettings(settings.poison_max_tries, settings.poison_retry_seconds)

    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        if not clients:
            clients.append(httpx.AsyncClient(timeout=settings.webhook_timeout_seconds))
            runtime.resources.push_async_callback(clients[0].aclose)
        return clients[0]

    async def dispatch_due_webhooks() -> bool:
        for _ in range(BATCH):
            failure: Exception | None = None
            async with runtime.sessionmaker() as session:
                due = await outbound_service.next_due(session, clock.now())
                if due is None:
                    return False
                key, case_id, kind = due[0].id, due[0].case_id, due[0].type
                try:
                    parked = await outbound_service.deliver(
                        session, *due, client=client(), schedule=settings.webhook_retry_schedule_seconds,
                        jitter=settings.webhook_retry_jitter, park=park)
                    if parked is None:
                        await poison.forget(session, DISPATCHER, key)
                    await session.commit()
                    if parked is not None:
                        poison.counted(parked, service=runtime.service)
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    failure = exc
            if failure is not None:  # on to the next message at once; this one waits, or is parked
                await poison.item_failed(runtime, worker=DISPATCHER, item_key=key, subject=case_id,
                                         table=WebhookMessage.__tablename__, item_type=kind, exc=failure)
        return True

    return dispatch_due_webhooks
