from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared import clock


class MeetingStatus(StrEnum):
    scheduled = "scheduled"
    concluded = "concluded"
    cancelled = "cancelled"
    no_show = "no_show"


class Referral(SQLModel, table=True):
    """A case referred to the LA's mediation provider: what scheduling needs to book, rebook and watch day 30."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_breach_watch", "breach_raised_on", "mediate_by"),)

    case_id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(max_length=32)
    la_code: str = Field(max_length=16)
    provider_id: str = Field(max_length=64)
    kind: str = Field(default="mediation", max_length=32)
    mediate_by: date | None = Field(default=None, description="R8/R9; none for disagreement resolution")
    arranging_body: str = Field(max_length=32)
    health_issues: bool = False
    #: Languages, accessibility needs and the school's URN, for the mediator assignment.
    needs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    referred_on: date
    adviser_told_on: date | None = Field(default=None, description="R10: when the adviser was told the 30 days are missed")
    breach_raised_on: date | None = Field(default=None, description="R10: day-30 breach raised to the LA and ops")
    closed_reason: str | None = Field(default=None, max_length=64, description="Withdrawn or declined: nothing to watch")


class MeetingChange(SQLModel, table=True):
    """Every booking change with its reason: booked, rescheduled, cancelled, no-show, concluded."""

    __tablename__ = "meeting_changes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: str = Field(foreign_key="meetings.id", index=True, max_length=36)
    sequence: int
    change: str = Field(max_length=32)
    reason: str = Field(max_length=64)
    by: str = Field(max_length=32, description="system, provider or ops")
    at: datetime = Field(default_factory=clock.now)


class Meeting(SQLModel, table=True):
    """A mediation meeting. Nothing said in it is stored here or sent anywhere (R20)."""

    __tablename__ = "meetings"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    case_id: str = Field(index=True, max_length=36, description="A case may have a new meeting after a cancellation")
    la_code: str = Field(max_length=16)
    mediator_id: str = Field(foreign_key="mediators.id", max_length=64)
    assignment_reason: str = Field(max_length=500)
    arranging_body: str = Field(max_length=32)
    notice_given_on: date
    mediate_by: date | None = Field(default=None, description="R8/R9; none for disagreement resolution")
    kind: str = Field(default="mediation", max_length=32)
    starts_at: datetime
    ends_at: datetime
    location: str = Field(max_length=300, description="The venue's address, or 'Video call' with the link")
    venue: str | None = Field(default=None, max_length=300)
    remote_url: str | None = Field(default=None, max_length=2000)
    booked_by: str = Field(default="system", max_length=32, description="system (provisional) or provider (confirmed)")
    #: R11: the parent or young person agreed to less than 5 clear working days' notice, on this day.
    short_notice_consent_on: date | None = None
    #: R12/R14: who will attend, by role; names stay in scheduling.
    attendees: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: R14: whether and how the child's views were sought; never the views themselves.
    child_views: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: Why this mediator was chosen and why others were refused (ids and reasons only).
    assignment: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    absent_party: str | None = Field(default=None, max_length=32)
    late: bool = Field(default=False, description="No date on or before mediate_by gives the statutory notice")
    status: MeetingStatus = MeetingStatus.scheduled
    sequence: int = Field(default=0, description="Revisions of the booking; the calendar SEQUENCE")
    cancelled_reason: str | None = Field(default=None, max_length=64)
    held: bool | None = None
    agreement: str | None = Field(default=None, max_length=16)
    concluded_on: date | None = None
    #: R18/R19: issue labels and follow-up deadlines; kept here, never sent in events (R20).
    outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=clock.now)


class InboundWebhook(SQLModel, table=True):
    """Every provider webhook applied, by its provider and webhook-id: a replay is a no-op.

    Each provider picks its own ids, so one provider's id never shadows another's.
    """

    __tablename__ = "inbound_webhooks"

    provider_id: str = Field(primary_key=True, max_length=64)
    webhook_id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=clock.now)


class DisagreementResolutionRequest(SQLModel, table=True):
    """R21: a disagreement-resolution case waiting for every party's consent before it is booked."""

    __tablename__ = "dr_requests"

    case_id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(max_length=32)
    la_code: str = Field(max_length=16)
    dr_type: int
    missing_consent: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=clock.now)
