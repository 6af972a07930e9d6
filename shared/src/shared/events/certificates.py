"""Events owned by certificates.

``certificate.issued`` (topic ``certificates.certificates``) carries the facts
every reader may see. The signed PDF, which names the parent and child, travels
only to notifications, on ``certificates.documents``.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from shared.events.envelope import EventData, Personal

CertificateKind = Literal["adviser", "mediator", "missed_deadline"]


class CertificateIssuedV1(EventData):
    """A mediation certificate was issued; its issue date starts the appeal clock (R17)."""

    type: ClassVar[str] = "certificate.issued.v1"
    topic: ClassVar[str] = "certificates.certificates"

    certificate_id: str
    case_id: str
    number: str
    kind: CertificateKind
    issued_on: date
    due_on: date
    #: R17: the last day the Tribunal may receive an appeal (by 5pm), from the shared calendar.
    appeal_deadline: date | None = None


class CertificateDocumentReadyV1(EventData):
    """The certificate document, for delivery to the parent or young person.

    Consumed only by notifications, which attaches the PDF to the certificate email.
    """

    type: ClassVar[str] = "certificate.document_ready.v1"
    topic: ClassVar[str] = "certificates.documents"

    certificate_id: str
    case_id: str
    number: str
    kind: CertificateKind
    issued_on: date
    filename: str
    pdf_base64: Personal


class CertificateIssuedLateV1(EventData):
    """A certificate was issued after its due date (3 working days after the trigger: R6, R10, R15).

    For ops and the LA: a statutory time limit was missed. Published beside
    ``certificate.issued``, which still starts the appeal clock.
    """

    type: ClassVar[str] = "certificate.issued_late.v1"
    topic: ClassVar[str] = "certificates.certificates"

    certificate_id: str
    case_id: str
    number: str
    kind: CertificateKind
    triggered_on: date
    due_on: date
    issued_on: date
    days_late: int


class CertificateReissuedV1(EventData):
    """A corrected certificate replaced an earlier version (R16).

    The new version has its own number but keeps the original issue date, so
    the appeal deadline (R17) does not move. The earlier number now verifies
    as "superseded". Why it was corrected stays in the certificates service.
    """

    type: ClassVar[str] = "certificate.reissued.v1"
    topic: ClassVar[str] = "certificates.certificates"

    certificate_id: str
    case_id: str
    number: str
    kind: CertificateKind
    version: int
    issued_on: date
    appeal_deadline: date | None = None
    supersedes_certificate_id: str
    supersedes_number: str


VoidReason = Literal["issued_in_error", "duplicate", "wrong_case", "other"]


class CertificateVoidedV1(EventData):
    """A certificate was revoked; its number now verifies as "revoked".

    ``reason`` is a code; any free-text note stays in the certificates service.
    """

    type: ClassVar[str] = "certificate.voided.v1"
    topic: ClassVar[str] = "certificates.certificates"

    certificate_id: str
    case_id: str
    number: str
    kind: CertificateKind
    reason: VoidReason
    voided_on: date


NotRequiredReason = Literal["health_only", "missed_deadline_certificate_counts"]


class CertificateNotRequiredV1(EventData):
    """A trigger (a concluded mediation, a decline, a missed 30 days) produced no certificate, and why.

    ``health_only``: health care provision alone cannot be appealed to the Tribunal (R2), so a health-only
    mediation ends without a Tribunal mediation certificate. ``missed_deadline_certificate_counts``: a
    certificate after a missed 30 days (R10) already exists and stays the one that counts; the mediation that
    took place later is recorded on it and a review is raised for the adviser. Intake and notifications show it.
    """

    type: ClassVar[str] = "certificate.not_required.v1"
    topic: ClassVar[str] = "certificates.certificates"

    case_id: str
    kind: CertificateKind
    trigger_ref: str
    triggered_on: date
    reason: NotRequiredReason
    decided_on: date


ReviewKind = Literal["late_contact", "mediation_after_missed_deadline"]


class CertificateReviewRequestedV1(EventData):
    """No automatic certificate: a person must decide (the LA's portal and ops see the task).

    ``late_contact``: the parent or young person contacted the adviser after the 2-month window (R4).
    ``mediation_after_missed_deadline``: mediation took place after a certificate for a missed 30 days (R10)
    was issued; the adviser may replace that certificate through a correction (R16).
    """

    type: ClassVar[str] = "certificate.review_requested.v1"
    topic: ClassVar[str] = "certificates.certificates"

    review_id: str
    case_id: str
    kind: ReviewKind
    certificate_kind: CertificateKind
    opened_on: date
