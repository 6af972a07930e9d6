from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from certificates.certificate.models import (
    CertificateKind,
    CertificateStatus,
    ReviewDecision,
    ReviewKind,
    ReviewStatus,
)
from shared.events.certificates import VoidReason
from shared.limits import EventDate, Name, Reason, no_nul


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    number: str = Field(examples=["MC-2026-000042-5"])
    verification_code: str | None = Field(
        default=None, examples=["7Q2KD-M9XHE-4TRWB"],
        description="Printed on the certificate and in its QR code; public verification needs it with the number")
    kind: CertificateKind
    version: int = Field(description="1 for the first issue; a correction is a new version (R16)")
    triggered_on: date
    due_on: date = Field(description="3 working days after the trigger (R6, R10, R15)")
    issued_on: date = Field(description="A correction keeps the original issue date (R16)")
    issued_at: datetime
    appeal_deadline: date | None = Field(description="R17: the Tribunal must receive the appeal by 5pm on this day")
    appeal_deadline_reason: str | None = Field(
        default=None, description="How R17 set it: which date was later, and any move (HESC rule 12)",
        examples=["1 month after the mediation certificate was issued; moved out of 25 Dec-1 Jan (HESC 12(3)(a))"])
    issuer: str
    provider: str
    mediation_date: date | None
    supersedes_id: str | None
    superseded_by_id: str | None
    voided_at: datetime | None
    void_reason: str | None
    later_mediation_on: date | None = Field(
        default=None, description="R10: mediation took place on this day, after this certificate for a missed "
                                  "30 days was issued; it stays the one that counts unless the adviser replaces it")


class CertificateOutcomeRead(BaseModel):
    """One trigger of a case (a decline, a concluded mediation, a missed 30 days) and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    kind: CertificateKind
    status: CertificateStatus = Field(description="issued; pending (being issued); held (waiting for a review, "
                                                  "R4); refused (on review); not_required (R2, R10)")
    outcome: str | None = Field(description="Why no certificate was issued, in words the portal can show",
                                examples=["no certificate: health-only. Health care provision alone cannot be "
                                          "appealed to the Tribunal (R2), so a health-only mediation does not "
                                          "produce a mediation certificate."])
    triggered_on: date
    due_on: date
    number: str | None = Field(examples=["MC-2026-000042-5"])
    version: int
    issued_on: date | None
    appeal_deadline: date | None
    appeal_deadline_reason: str | None
    mediation_date: date | None
    later_mediation_on: date | None
    superseded_by_id: str | None
    voided_at: datetime | None


class ReviewRead(BaseModel):
    """A decision a person must take instead of an automatic certificate."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    kind: ReviewKind = Field(description="late_contact (R4); mediation_after_missed_deadline (R10 then mediation)")
    status: ReviewStatus
    reason: str = Field(description="What is to be decided, and the rule")
    certificate_id: str = Field(description="The certificate held (R4), or the R10 certificate that counts")
    mediation_date: date | None
    created_at: datetime
    resolved_at: datetime | None
    decision: ReviewDecision | None
    decision_reason: str | None
    issued_certificate_id: str | None = Field(
        description="After 'issue': the certificate released to the issuer (R4), or the replacement (R10)")


class ReviewResolve(BaseModel):
    """The decision: ``issue`` a certificate (R4), or a replacement recording the mediation (R10); or ``refuse``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "issue", "reason": "Contact was late because the notice went to an old address"}]})

    decision: ReviewDecision
    reason: Reason = Field(description="Why; kept here, never sent on")


class CertificateReissue(BaseModel):
    """A correction: the certificate is issued again as a new version that keeps the original issue date."""

    reason: Reason = Field(description="Why it is corrected; kept here, never sent on")
    issuer: Name | None = Field(default=None, description="Corrected issuer name, if wrong")
    provider: Name | None = Field(default=None, description="Corrected provider name, if wrong")
    mediation_date: EventDate | None = Field(default=None, description="Corrected mediation date, if wrong")


class CertificateVoid(BaseModel):
    reason: VoidReason
    note: Reason | None = Field(default=None, description="Free text, kept here, never sent on")


class VerificationRequest(BaseModel):
    number: Annotated[str, AfterValidator(no_nul)] = Field(min_length=1, max_length=32, examples=["MC-2026-000042-5"])
    code: Annotated[str, AfterValidator(no_nul)] = Field(
        min_length=1, max_length=32, examples=["7Q2KD-M9XHE-4TRWB"],
        description="The verification code printed on the certificate and carried by its QR code "
                    "(any case; spaces and hyphens ignored)")
    surname: Name = Field(description="The surname of the parent or young person")


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
