from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared import clock


class CertificateKind(StrEnum):
    adviser = "adviser"  # mediation declined, s.55(4), R6
    mediator = "mediator"  # mediation took place, s.55(5), R15
    missed_deadline = "missed_deadline"  # 30 days missed, R10


class CertificateStatus(StrEnum):
    pending = "pending"  # triggered; waiting for the issuer (and the case's facts)
    issued = "issued"


class CaseRecord(SQLModel, table=True):
    """The facts of a case that a certificate prints, kept from intake's events. Personal data."""

    __tablename__ = "case_records"

    case_id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(max_length=32)
    la_code: str = Field(max_length=16)
    decision: str = Field(max_length=64)
    notice_sent_on: date
    requester_role: str = Field(max_length=16)
    requester_name: str = Field(max_length=200)


class Certificate(SQLModel, table=True):
    """One certificate per trigger (case, kind, trigger reference): a redelivered event adds nothing."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("case_id", "kind", "trigger_ref"),)

    serial: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), unique=True, max_length=36)
    case_id: str = Field(index=True, max_length=36)
    kind: CertificateKind
    trigger_ref: str = Field(max_length=64, description="meeting id, or 'declined'")
    trigger_event_id: str = Field(max_length=64)
    triggered_on: date
    due_on: date
    status: CertificateStatus = Field(default=CertificateStatus.pending, index=True)
    issuer: str = Field(max_length=200)
    provider: str = Field(max_length=200)
    mediation_date: date | None = None
    number: str | None = Field(default=None, unique=True, max_length=32)
    issued_on: date | None = None
    issued_at: datetime | None = None
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: R17, from the shared calendar at issue; a reissue keeps the issue date and so the deadline.
    appeal_deadline: date | None = None
    #: R16 corrections: a reissue is a new row (version + 1) that keeps the original issue date.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    supersedes_id: str | None = Field(default=None, max_length=36)
    superseded_by_id: str | None = Field(default=None, max_length=36)
    correction_reason: str | None = Field(default=None, max_length=500)
    voided_at: datetime | None = None
    void_reason: str | None = Field(default=None, max_length=32)
    void_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now)
