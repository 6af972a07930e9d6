"""The sender worker: SMTP is slow work, kept out of the consumer loop (aiokafka issue 848).

Each message is sent and its outcome committed on its own, so a crash can at
worst repeat one delivery, under the same Message-ID (RFC 1047). A shutdown
lets the send in flight finish (briefly) and commits its outcome before stopping.
"""

from __future__ import annotations

import asyncio

from notifications.message import service as message_service
from notifications.settings import NotificationsSettings
from shared import clock
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 20


def make_step(runtime: ServiceRuntime) -> Step:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]

    async def send_due_messages() -> bool:
        for _ in range(BATCH):
            async with runtime.sessionmaker() as session:
                message = await message_service.next_due(session, clock.now())
                if message is None:
                    return False
                interrupted = await message_service.send_one(session, message, settings)
                await session.commit()
                if interrupted:  # the service is stopping: the outcome is safe, now stop
                    raise asyncio.CancelledError
        return True

    return send_due_messages
