"""The day-30 watch (R10): a worker that raises each breach once, to the LA and ops, and tells the adviser."""

from __future__ import annotations

from scheduling.meeting import service as meeting_service
from scheduling.settings import SchedulingSettings
from shared import clock
from shared.runtime import ServiceRuntime
from shared.worker import Step

DEADLINE_WATCH = "deadline_watch"
BATCH = 100


def make_step(runtime: ServiceRuntime) -> Step:
    settings: SchedulingSettings = runtime.settings  # type: ignore[assignment]

    async def raise_due_breaches() -> bool:
        today = clock.today()
        async with runtime.sessionmaker() as session:
            raised = await meeting_service.raise_deadline_breaches(session, today=today,
                                                                   timezone=settings.meeting_timezone, limit=BATCH)
            await session.commit()
        return raised >= BATCH

    return raise_due_breaches
