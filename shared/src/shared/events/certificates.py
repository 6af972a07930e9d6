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
