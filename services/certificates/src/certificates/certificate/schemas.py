from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from certificates.certificate.models import CertificateKind
from shared.events.certificates import VoidReason


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    number: str = Field(examples=["MC-2026-000042-5"])
    kind: CertificateKind
    version: int = Field(description="1 for the first issue; a correction is a new version (R16)")
    triggered_on: date
    due_on: date = Field(description="3 working days after the trigger (R6, R10, R15)")
    issued_on: date = Field(description="A correction keeps the original issue date (R16)")
    issued_at: datetime
    appeal_deadline: date | None = Field(description="R17: the Tribunal must receive the appeal by 5pm on this day")
    issuer: str
    provider: str
    mediation_date: date | None
    supersedes_id: str | None
    superseded_by_id: str | None
    voided_at: datetime | None
    void_reason: str | None


class CertificateReissue(BaseModel):
    """A correction: the certificate is issued again as a new version that keeps the original issue date."""

    reason: str = Field(min_length=1, max_length=500, description="Why it is corrected; kept here, never sent on")
    issuer: str | None = Field(default=None, max_length=200, description="Corrected issuer name, if wrong")
    provider: str | None = Field(default=None, max_length=200, description="Corrected provider name, if wrong")
    mediation_date: date | None = Field(default=None, description="Corrected mediation date, if wrong")


class CertificateVoid(BaseModel):
    reason: VoidReason
    note: str | None = Field(default=None, max_length=500, description="Free text, kept here, never sent on")


class VerificationRequest(BaseModel):
    number: str = Field(min_length=1, max_length=32, examples=["MC-2026-000042-5"])
    surname: str = Field(min_length=1, max_length=200, description="The surname of the parent or young person")


class VerificationRead(BaseModel):
    """The minimum a Tribunal clerk needs to accept or question a certificate."""

    status: Literal["valid", "superseded", "revoked"]
    number: str
    kind: CertificateKind
    issued_on: date
    appeal_deadline: date | None
    local_authority: str
    superseded_by: str | None = Field(default=None, description="The number of the corrected version")
    revoked_on: date | None = None
