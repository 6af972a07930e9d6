from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.timeline.models import TimelineEntry

#: ``session.info`` key: the timeline entries and reviews this session wrote, held (the identity map holds
#: rows weakly) so an answer about a case just created needs no read-back (``intake.case.routes``).
WRITTEN = "intake_rows_written"


def remember(session: AsyncSession, row: object) -> None:
    session.info.setdefault(WRITTEN, []).append(row)


def written(session: AsyncSession) -> list[object]:
    rows: list[object] = session.info.get(WRITTEN, [])
    return rows


def add(session: AsyncSession, *, case_id: str, kind: str, at: datetime, summary: str,
        reference: str | None = None, source_event: str | None = None) -> TimelineEntry:
    entry = TimelineEntry(case_id=case_id, kind=kind, occurred_at=at, summary=summary, reference=reference,
                          source_event_id=source_event)
    session.add(entry)
    remember(session, entry)
    return entry


async def for_case(session: AsyncSession, case_id: str) -> list[TimelineEntry]:
    result = await session.exec(
        select(TimelineEntry).where(TimelineEntry.case_id == case_id)
        .order_by(col(TimelineEntry.occurred_at), col(TimelineEntry.id))
    )
    return list(result.all())
