from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from certificates.certificate.models import CertificateKind


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    number: str = Field(examples=["MC-2026-000042-5"])
    kind: CertificateKind
    triggered_on: date
    due_on: date = Field(description="3 working days after the trigger (R6, R10, R15)")
    issued_on: date
    issued_at: datetime
    issuer: str
    provider: str
    mediation_date: date | None
