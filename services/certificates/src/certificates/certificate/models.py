from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from shared import clock


class CertificateKind(StrEnum):
    adviser = "adviser"  # mediation declined, s.55(4), R6
    mediator = "mediator"  # mediation took place, s.55(5), R15
    missed_deadline = "missed_deadline"  # 30 days missed, R10


class CertificateStatus(StrEnum):
    pending = "pending"  # triggered; waiting for the issuer (and the case's facts)
    issued = "issued"
    held = "held"  # no automatic certificate: waiting for a person's review (R4)
    refused = "refused"  # the review decided against issuing (R4)
    not_required = "not_required"  # no certificate for this trigger (R2 health-only; R10 certificate counts)


class ReviewKind(StrEnum):
    late_contact = "late_contact"  # R4: contact with the adviser after the 2-month window
    mediation_after_missed_deadline = "mediation_after_missed_deadline"  # R10, then mediation took place


class ReviewStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class ReviewDecision(StrEnum):
    issue = "issue"
    refuse = "refuse"


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
    #: R2: health care provision alone cannot be appealed; from case.submitted (a decline does not say).
    health_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: R4: first contact with the adviser came after the 2-month window: no automatic certificate.
    late_contact: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Certificate(SQLModel, table=True):
    """One certificate per trigger (case, kind, trigger reference): a redelivered event adds nothing."""

    __tablename__ = "certificates"
    #: The issuer's claim uses the second: the oldest pending certificate first, never a walk past those issued.
    __table_args__ = (UniqueConstraint("case_id", "kind", "trigger_ref"),
                      Index("ix_certificates_status_serial", "status", "serial"))

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
    #: Printed on the certificate and in its QR code; verification needs it with the number (verification.py).
    verification_code: str | None = Field(default=None, max_length=32)
    issued_on: date | None = None
    issued_at: datetime | None = None
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: R17, from the shared calendar at issue; a reissue keeps the issue date and so the deadline.
    appeal_deadline: date | None = None
    #: How R17 set it, from the shared calendar (which date was later, and any move).
    appeal_deadline_reason: str | None = Field(default=None, max_length=500)
    #: R16 corrections: a reissue is a new row (version + 1) that keeps the original issue date.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    supersedes_id: str | None = Field(default=None, max_length=36)
    superseded_by_id: str | None = Field(default=None, max_length=36)
    correction_reason: str | None = Field(default=None, max_length=500)
    voided_at: datetime | None = None
    void_reason: str | None = Field(default=None, max_length=32)
    void_note: str | None = Field(default=None, max_length=500)
    #: Why a trigger produced no certificate (not_required, refused), in words the portal shows.
    outcome: str | None = Field(default=None, max_length=500)
    #: A person decided it may be issued (R4): the issuer then issues it like any other.
    reviewed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: R10: mediation took place after this certificate for a missed 30 days was issued (the meeting's day).
    later_mediation_on: date | None = None
    later_meeting_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=clock.now)


class Review(SQLModel, table=True):
    """A decision a person must take instead of an automatic certificate (R4, R10 then mediation)."""

    __tablename__ = "certificate_reviews"  # intake keeps its own "reviews"
    __table_args__ = (UniqueConstraint("case_id", "kind", "trigger_ref"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    case_id: str = Field(index=True, max_length=36)
    la_code: str = Field(index=True, max_length=16)
    kind: ReviewKind
    trigger_ref: str = Field(max_length=64, description="the held certificate's trigger, or the meeting id")
    reason: str = Field(max_length=500)
    status: ReviewStatus = Field(default=ReviewStatus.open, index=True)
    #: The certificate the decision is about: the one held (R4), or the R10 certificate that counts.
    certificate_id: str = Field(max_length=36)
    mediation_date: date | None = None
    created_at: datetime = Field(default_factory=clock.now)
    resolved_at: datetime | None = None
    decision: ReviewDecision | None = None
    decision_reason: str | None = Field(default=None, max_length=500)
    resolved_by: str | None = Field(default=None, max_length=200)
    #: The certificate issued (R4) or the replacement (R10) after an "issue" decision.
    issued_certificate_id: str | None = Field(default=None, max_length=36)


class VerificationAttempt(SQLModel, table=True):
    """Wrong verification answers per certificate number (known or not) in the current window."""

    __tablename__ = "verification_attempts"

    number: str = Field(primary_key=True, max_length=32)
    failures: int = 0
    window_started_at: datetime = Field(index=True)
