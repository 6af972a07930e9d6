"""The issuer worker: PDF rendering is slow work, kept out of the consumer loop (aiokafka issue 848)."""

from __future__ import annotations

from certificates.certificate import service as certificate_service
from shared.runtime import ServiceRuntime
from shared.worker import Step

BATCH = 10


def make_step(runtime: ServiceRuntime) -> Step:
    async def issue_due_certificates() -> bool:
        async with runtime.sessionmaker() as session:
            issued = await certificate_service.issue_pending(
                session, number_prefix=runtime.settings.number_prefix, batch=BATCH)  # type: ignore[attr-defined]
            await session.commit()
        return issued == BATCH

    return issue_due_certificates
