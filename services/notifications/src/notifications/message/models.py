from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from shared import clock


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
    """Who there is to write to on a case, and the case facts the staff messages need.

    A type-4 disagreement-resolution case (LA and health commissioning body)
    has no parent or young person party, and the parent is sent nothing (R21).
    No row means an ordinary case whose events have not arrived yet: its
    requester's details and its LA may still be on the way.
    """

    __tablename__ = "case_audiences"

    case_id: str = Field(primary_key=True, max_length=36)
    has_requester: bool
    dr_type: int | None = None
    la_code: str | None = Field(default=None, max_length=16)
    reference: str | None = Field(default=None, max_length=32)
    health_issues: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Message(SQLModel, table=True):
    """One email to one recipient for one event; its id is stable, so a redelivery is recognisable."""

    __tablename__ = "messages"
    #: The claim's index: the oldest pending row first, never a walk past the rows already done.
    __table_args__ = (Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=36)
    message_id: str = Field(unique=True, max_length=255, description="The RFC 5322 Message-ID header")
    case_id: str = Field(index=True, max_length=36)
    la_code: str = Field(max_length=16)
    event_id: str = Field(max_length=64)
    template: str = Field(max_length=64)
    recipient_role: str = Field(max_length=32)
    recipient_ref: str | None = Field(default=None, max_length=64,
                                      description="Which one of the role: the meeting id (mediator), the body id (health)")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attachment_name: str | None = Field(default=None, max_length=200)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: MessageStatus = Field(default=MessageStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now)
    sent_at: datetime | None = None


class AttemptOutcome(StrEnum):
    delivered = "delivered"
    temporary_failure = "temporary_failure"
    permanent_failure = "permanent_failure"
    #: Recorded (and committed) before the email leaves; replaced by the outcome once the server answers.
    in_flight = "in_flight"
    #: The process stopped (or its commit was lost) before the outcome was recorded: the recipient may have it.
    unknown = "unknown"


class MessageAttempt(SQLModel, table=True):
    """One SMTP attempt of one message: when, how it ended and the server's code and short reply.

    Never the body or the recipient's address (a reply that quotes an address is scrubbed).
    """

    __tablename__ = "email_attempts"
    __table_args__ = (UniqueConstraint("message_uuid", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    message_uuid: str = Field(foreign_key="messages.id", index=True, max_length=36)
    attempt: int
    at: datetime = Field(default_factory=clock.now)
    outcome: AttemptOutcome
    smtp_code: int | None = None
    reply: str | None = Field(default=None, max_length=200)
