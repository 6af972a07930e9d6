"""The sender worker: SMTP is slow work, kept out of the consumer loop (aiokafka issue 848).

A message that fails for a reason that is not an outage (it cannot be rendered,
a header value is refused) is tried again later and parked after bounded tries
(``shared.poison``), while the sender goes on with the messages behind it.

Each message is sent and its outcome committed on its own, so a crash can at
worst repeat one delivery, under the same Message-ID (RFC 1047). A shutdown
lets the send in flight finish (briefly) and commits its outcome before stopping.
"""

from __future__ import annotations

import asyncio

from notifications.message import service as message_service
from notifications.message.models import Message
from notifications.message.service import SENDER
from notifications.settings import NotificationsSettings
from shared import clock, poison
from shared.outage import is_outage
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 20


def make_step(runtime: ServiceRuntime) -> Step:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]

    async def send_due_messages() -> bool:
        for _ in range(BATCH):
            failure: Exception | None = None
            async with runtime.sessionmaker() as session:
                message = await message_service.next_due(session, clock.now())
                if message is None:
                    return False
                key, case_id, template = message.id, message.case_id, message.template
                try:
                    interrupted = await message_service.send_one(session, message, settings)
                    await poison.forget(session, SENDER, key)
                    await session.commit()
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    failure, interrupted = exc, False
            if failure is not None:  # on to the next message at once; this one waits, or is parked
                await poison.item_failed(runtime, worker=SENDER, item_key=key, subject=case_id,
                                         table=Message.__tablename__, item_type=template, exc=failure)
            if interrupted:  # the service is stopping: the outcome is safe, now stop
                raise asyncio.CancelledError
        return True

    return send_due_messages
