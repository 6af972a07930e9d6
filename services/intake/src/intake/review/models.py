from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from shared import clock


class ReviewKind(StrEnum):
    late_contact = "late_contact"  # R4: the adviser was first contacted after the 2-month window


class ReviewStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class ReviewDecision(StrEnum):
    accepted = "accepted"  # go ahead despite the late contact (e.g. the Tribunal may extend time)
    refused = "refused"  # out of time: no certificate follows


class Review(SQLModel, table=True):
    """A task for a person, never decided by the system: e.g. late contact (R4). No personal data."""

    __tablename__ = "reviews"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    la_code: str = Field(index=True, max_length=16)
    kind: ReviewKind
    status: ReviewStatus = Field(default=ReviewStatus.open, index=True)
    reason: str = Field(max_length=500, description="Why the review is needed")
    opened_at: datetime = Field(default_factory=clock.now)
    decision: ReviewDecision | None = None
    decision_reason: str | None = Field(default=None, max_length=2000)
    resolved_by: str | None = Field(default=None, max_length=200, description="The API client that resolved it")
    resolved_at: datetime | None = None
