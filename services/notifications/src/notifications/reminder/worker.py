"""The reminder worker: fires stored reminders when they fall due.

Reminders are rows, so a restart loses none: the first step after start-up
fires whatever fell due while the service was down (unless it has expired).
"""

from __future__ import annotations

from notifications.reminder import service as reminder_service
from notifications.settings import NotificationsSettings
from shared import clock
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 50


def make_step(runtime: ServiceRuntime) -> Step:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]

    async def fire_due_reminders() -> bool:
        for _ in range(BATCH):
            async with runtime.sessionmaker() as session:
                reminder = await reminder_service.next_due(session, clock.now())
                if reminder is None:
                    return False
                await reminder_service.fire(session, reminder, settings, clock.now())
                await session.commit()
        return True

    return fire_due_reminders
