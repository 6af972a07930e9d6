"""The issuer worker: PDF rendering and signing are slow work, kept out of the consumer loop (aiokafka issue 848)."""

from __future__ import annotations

from certificates.certificate import service as certificate_service
from certificates.certificate.models import CertificateStatus
from certificates.metrics import CERTIFICATES_ISSUED, CERTIFICATES_ISSUED_LATE, CERTIFICATES_WAITING_OVERDUE
from shared import clock
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 10


def make_step(runtime: ServiceRuntime, issuing: certificate_service.Issuing) -> Step:
    async def issue_due_certificates() -> bool:
        async with runtime.sessionmaker() as session:
            handled = await certificate_service.issue_pending(session, issuing=issuing, batch=BATCH)
            await session.commit()
            waiting = await certificate_service.count_waiting_overdue(session, today=clock.today())
        CERTIFICATES_WAITING_OVERDUE.set(waiting)
        for certificate in handled:  # counted once committed; held for review or not required are not issued
            if certificate.status is not CertificateStatus.issued:
                continue
            CERTIFICATES_ISSUED.labels(certificate.kind).inc()
            if certificate_service.is_late(certificate):
                CERTIFICATES_ISSUED_LATE.labels(certificate.kind).inc()
        return len(handled) == BATCH

    return issue_due_certificates
