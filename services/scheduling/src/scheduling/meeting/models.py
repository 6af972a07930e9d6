from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class EmployerKind(StrEnum):
    independent = "independent"
    self_employed = "self_employed"
    local_authority = "local_authority"
    icb = "icb"
    nhs_england = "nhs_england"


class MeetingStatus(StrEnum):
    scheduled = "scheduled"
    concluded = "concluded"


class Mediator(SQLModel, table=True):
    __tablename__ = "mediators"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    provider_id: str = Field(index=True, max_length=64)
    employer_kind: EmployerKind
    employer_name: str = Field(max_length=200)
    capacity_per_week: int = 5
    active: bool = True
    last_booked_at: datetime | None = None


class Meeting(SQLModel, table=True):
    """A mediation meeting. Nothing said in it is stored here or sent anywhere (R20)."""

    __tablename__ = "meetings"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    case_id: str = Field(unique=True, max_length=36)
    la_code: str = Field(max_length=16)
    mediator_id: str = Field(foreign_key="mediators.id", max_length=64)
    assignment_reason: str = Field(max_length=500)
    arranging_body: str = Field(max_length=32)
    notice_given_on: date
    mediate_by: date
    starts_at: datetime
    ends_at: datetime
    location: str = Field(max_length=300)
    late: bool = Field(default=False, description="No date on or before mediate_by gives the statutory notice")
    status: MeetingStatus = MeetingStatus.scheduled
    held: bool | None = None
    agreement: str | None = Field(default=None, max_length=16)
    concluded_on: date | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class InboundWebhook(SQLModel, table=True):
    """Every provider webhook applied, by its webhook-id: a replay is a no-op."""

    __tablename__ = "inbound_webhooks"

    webhook_id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
