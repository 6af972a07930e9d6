from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting import service as meeting_service
from shared.events import CaseSubmittedV1, Envelope


async def book_meeting_for_case(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
    settings = session.info["settings"]
    await meeting_service.book_for_case(session, event.data, today=datetime.now(UTC).date(),
                                        timezone=settings.meeting_timezone)
