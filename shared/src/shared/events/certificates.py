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
