"""Idempotent inbox: each handled event id is recorded with the handler's changes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock


class InboxEvent(SQLModel, table=True):
    __tablename__ = "inbox_events"

    event_id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=200)
    handled_at: datetime = Field(default_factory=clock.now)


async def already_handled(session: AsyncSession, event_id: str) -> bool:
    return await session.get(InboxEvent, event_id) is not None


def record(session: AsyncSession, event_id: str, event_type: str) -> None:
    session.add(InboxEvent(event_id=event_id, type=event_type))
