from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel


class MessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Recipient(SQLModel, table=True):
    """Names and addresses live only here, in the notifications database."""

    __tablename__ = "recipients"

    case_id: str = Field(primary_key=True, max_length=36)
    role: str = Field(primary_key=True, max_length=32)
    la_code: str = Field(max_length=16)
    case_reference: str = Field(max_length=32)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)


class CaseAudience(SQLModel, table=True):
    """Whether a case has a parent or young person to write to at all.

    A type-4 disagreement-resolution case (LA and health commissioning body)
    has no parent or young person party, and the parent is sent nothing (R21).
    No row means an ordinary case: its requester's details may still be on the way.
    """

    __tablename__ = "case_audiences"

    case_id: str = Field(primary_key=True, max_length=36)
    has_requester: bool
    dr_type: int | None = None


class Message(SQLModel, table=True):
    """One email to one recipient for one event; its id is stable, so a redelivery is recognisable."""

    __tablename__ = "messages"

    id: str = Field(primary_key=True, max_length=36)
    message_id: str = Field(unique=True, max_length=255, description="The RFC 5322 Message-ID header")
    case_id: str = Field(index=True, max_length=36)
    la_code: str = Field(max_length=16)
    event_id: str = Field(max_length=64)
    template: str = Field(max_length=64)
    recipient_role: str = Field(max_length=32)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attachment_name: str | None = Field(default=None, max_length=200)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: MessageStatus = Field(default=MessageStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=lambda: datetime.now(UTC), index=True)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    sent_at: datetime | None = None
