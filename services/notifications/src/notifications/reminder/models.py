from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared import clock


class ReminderStatus(StrEnum):
    pending = "pending"
    sent = "sent"  # its message was queued; the delivery log follows it from there
    cancelled = "cancelled"  # the thing it reminded about changed or was called off
    expired = "expired"  # it came due only after the thing it reminds about (e.g. after a long outage)


class Reminder(SQLModel, table=True):
    """A message to send later, stored so that it survives restarts; the reminder worker fires it when due."""

    __tablename__ = "reminders"
    #: The claim's index: the oldest pending row first, never a walk past the rows already done.
    __table_args__ = (Index("ix_reminders_status_due_at", "status", "due_at"),)

    id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(index=True, max_length=36)
    la_code: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    about_id: str = Field(index=True, max_length=64, description="What it reminds about, e.g. the meeting id")
    template: str = Field(max_length=64)
    recipient_role: str = Field(max_length=32)
    recipient_ref: str | None = Field(default=None, max_length=64)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due_at: datetime
    expires_at: datetime | None = None
    status: ReminderStatus = Field(default=ReminderStatus.pending, index=True)
    created_at: datetime = Field(default_factory=clock.now)
    fired_at: datetime | None = None
    message_uuid: str | None = Field(default=None, max_length=36, description="The message it queued")


class ReminderCancellation(SQLModel, table=True):
    """A fact that cancels reminders, kept even when nothing was planned yet (a tombstone).

    Events that plan a reminder and events that cancel it travel on different
    topics, so the cancelling one may be handled first: a reminder is planned
    only if no cancellation covering it is known, and is checked again when it
    fires. ``kind`` or ``about_id`` empty: every kind, or everything of the case.
    """

    __tablename__ = "reminder_cancellations"

    id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(index=True, max_length=36)
    kind: str | None = Field(default=None, max_length=32)
    about_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=200, description="The event type of the cancelling fact")
    cancelled_at: datetime = Field(default_factory=clock.now)
