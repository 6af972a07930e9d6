"""The issuer worker: PDF rendering and signing are slow work, kept out of the consumer loop (aiokafka issue 848).

One trigger per transaction: a trigger that fails for a reason that is not an
outage (its PDF cannot be rendered, say) is tried again later and parked after
bounded tries (``shared.poison``), while the issuer goes on with the ones behind it.

The documents are made in a pool of processes (``documents.py``); one lane more
than the pool has processes each take a trigger (``SELECT ... FOR UPDATE SKIP
LOCKED``), so that the pool is kept busy while a lane waits on the database (the
claim, the commit). One lane on SQLite, which has no row locks: two lanes could
take the same trigger.
"""

from __future__ import annotations

import asyncio

from certificates.certificate import service as certificate_service
from certificates.certificate.models import Certificate, CertificateStatus
from certificates.metrics import CERTIFICATES_ISSUED, CERTIFICATES_ISSUED_LATE, CERTIFICATES_WAITING_OVERDUE
from shared import clock, poison
from shared.db import is_sqlite
from shared.outage import is_outage
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 10


def lanes_for(runtime: ServiceRuntime, issuing: certificate_service.Issuing) -> int:
    if is_sqlite(runtime.engine):
        return 1
    return issuing.documents.processes + 1 if issuing.documents.processes else 1


def make_step(runtime: ServiceRuntime, issuing: certificate_service.Issuing) -> Step:
    lanes = lanes_for(runtime, issuing)

    async def issue_due_certificates() -> bool:
        handled: list[Certificate] = []
        in_hand: set[str] = set()  # this step's certificates, from their claim until their outcome is recorded
        budget = [BATCH]

        async def lane() -> bool:
            """Trigger after trigger until none is due (False) or the step's budget is spent (True)."""
            while budget[0] > 0:
                budget[0] -= 1
                failure: Exception | None = None
                async with runtime.sessionmaker() as session:
                    due = await certificate_service.next_pending(session, clock.now(), in_hand=in_hand)
                    if due is None:
                        return False
                    certificate, case = due.certificate, due.case
                    key, case_id, kind = certificate.id, certificate.case_id, certificate.kind
                    if key in in_hand:  # another lane's, failed, its failure not yet recorded: this claim
                        continue        # began before that lane took it, and locked it once it let go
                    in_hand.add(key)
                    try:
                        await certificate_service.handle_pending(session, certificate, case, issuing=issuing)
                        if due.failed_before:  # a success forgets earlier failures; most triggers have none
                            await poison.forget(session, certificate_service.ISSUER, key)
                        await session.commit()
                        handled.append(certificate)
                    except Exception as exc:
                        if is_outage(exc):
                            raise
                        failure = exc
                if failure is not None:  # on to the next trigger at once; this one waits, or is parked
                    await poison.item_failed(runtime, worker=certificate_service.ISSUER, item_key=key,
                                             subject=case_id, table=Certificate.__tablename__, item_type=kind,
                                             exc=failure)
                in_hand.discard(key)
            return True

        try:
            async with asyncio.TaskGroup() as group:
                running = [group.create_task(lane()) for _ in range(lanes)]
        except ExceptionGroup as failed:  # an outage in one lane stops the others: the worker waits for it
            raise failed.exceptions[0] from None
        more = any(task.result() for task in running)
        async with runtime.sessionmaker() as session:
            waiting = await certificate_service.count_waiting_overdue(session, today=clock.today())
        CERTIFICATES_WAITING_OVERDUE.set(waiting)
        for certificate in handled:  # counted once committed; held for review or not required are not issued
            if certificate.status is not CertificateStatus.issued:
                continue
            CERTIFICATES_ISSUED.labels(certificate.kind).inc()
            if certificate_service.is_late(certificate):
                CERTIFICATES_ISSUED_LATE.labels(certificate.kind).inc()
        return more

    return issue_due_certificates
