from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared import clock


class TimelineEntry(SQLModel, table=True):
    """One step of a case, from intake itself or from another service's event. No personal data."""

    __tablename__ = "timeline_entries"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    kind: str = Field(max_length=64)
    occurred_at: datetime
    summary: str = Field(max_length=500)
    reference: str | None = Field(default=None, max_length=64, description="id of the meeting, certificate or message")
    source_event_id: str | None = Field(default=None, unique=True, max_length=64)
    recorded_at: datetime = Field(default_factory=clock.now)
