"""The reminder worker: fires stored reminders when they fall due.

Reminders are rows, so a restart loses none: the first step after start-up
fires whatever fell due while the service was down (unless it has expired).
A reminder that fails for a reason that is not an outage is tried again later
and parked after bounded tries (``shared.poison``); the ones behind it still fire.
"""

from __future__ import annotations

from notifications.reminder import service as reminder_service
from notifications.reminder.models import Reminder
from notifications.reminder.service import SCHEDULER
from notifications.settings import NotificationsSettings
from shared import clock, poison
from shared.outage import is_outage
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 50


def make_step(runtime: ServiceRuntime) -> Step:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]

    async def fire_due_reminders() -> bool:
        for _ in range(BATCH):
            failure: Exception | None = None
            async with runtime.sessionmaker() as session:
                reminder = await reminder_service.next_due(session, clock.now())
                if reminder is None:
                    return False
                key, case_id, template = reminder.id, reminder.case_id, reminder.template
                try:
                    await reminder_service.fire(session, reminder, settings, clock.now())
                    await poison.forget(session, SCHEDULER, key)
                    await session.commit()
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    failure = exc
            if failure is not None:  # on to the next reminder at once; this one waits, or is parked
                await poison.item_failed(runtime, worker=SCHEDULER, item_key=key, subject=case_id,
                                         table=Reminder.__tablename__, item_type=template, exc=failure)
        return True

    return fire_due_reminders
