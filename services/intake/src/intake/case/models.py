from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared import clock


class CaseKind(StrEnum):
    mediation = "mediation"
    mediation_declined = "mediation_declined"
    disagreement_resolution = "disagreement_resolution"


class CaseStatus(StrEnum):
    submitted = "submitted"
    declined = "declined"
    meeting_scheduled = "meeting_scheduled"
    meeting_concluded = "meeting_concluded"
    certificate_issued = "certificate_issued"
    withdrawn = "withdrawn"


class ArrangingBody(StrEnum):
    """R8: who arranges the mediation."""

    local_authority = "local_authority"
    health_commissioning_body = "health_commissioning_body"


class Case(SQLModel, table=True):
    """A request from a council portal. Requester and child fields are personal data."""

    __tablename__ = "cases"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    reference: str = Field(unique=True, max_length=32)
    la_code: str = Field(index=True, max_length=16)
    kind: CaseKind
    status: CaseStatus = Field(index=True)
    # Mediation only (a disagreement-resolution case has no appealable decision and no Tribunal clock):
    decision: str | None = Field(default=None, max_length=64)
    decision_date: date | None = None
    notice_sent_on: date | None = None
    told_on: date
    #: R4: when the parent or young person first contacted the mediation adviser (default told_on).
    adviser_contacted_on: date | None = None
    # The parent or young person; absent for a type-4 disagreement (LA vs health commissioner, R21):
    requester_role: str | None = Field(default=None, max_length=16)
    requester_name: str | None = Field(default=None, max_length=200)
    requester_email: str | None = Field(default=None, max_length=320)
    child_name: str | None = Field(default=None, max_length=200)
    child_date_of_birth: date | None = None
    mediation_issues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    health_issues: bool = False
    contact_window_ends_on: date | None = None
    late_contact: bool = False
    health_only: bool = False
    health_provision_wanted: str | None = Field(default=None, max_length=2000)
    arranging_body: ArrangingBody = ArrangingBody.local_authority
    health_bodies_told_by: date | None = None
    #: R8: when the LA's notice went to the health commissioning bodies (the system sends it on submission; the
    #: portal may report the actual day). A health-only mediation's 30 days run from it.
    health_notice_sent_on: date | None = None
    mediate_by: date | None = None
    certificate_due_on: date | None = None
    certificate_issued_on: date | None = None
    #: R15: the day the mediation concluded (held); the mediator certificate is due 3 working days later.
    meeting_concluded_on: date | None = None
    appeal_deadline: date | None = None
    appeal_deadline_reason: str | None = Field(default=None, max_length=200)
    withdrawn_reason: str | None = Field(default=None, max_length=64)
    dr_type: int | None = Field(default=None, description="R21: disagreement-resolution type 1-4")
    dr_summary: str | None = Field(default=None, max_length=2000)
    dr_parties: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Languages, accessibility needs and the school's URN, for scheduling's mediator assignment.
    meeting_needs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    created_at: datetime = Field(default_factory=clock.now)


class IdempotencyRecord(SQLModel, table=True):
    """A POST's Idempotency-Key: the same key and body return the original case."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("la_code", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    la_code: str = Field(max_length=16)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    case_id: str = Field(foreign_key="cases.id", max_length=36)
    created_at: datetime = Field(default_factory=clock.now)
