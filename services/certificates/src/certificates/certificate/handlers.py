from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from certificates.certificate import service as certificate_service
from certificates.certificate.models import CertificateKind
from shared.directory import load_directory
from shared.events import Envelope, MeetingConcludedV1
from shared.events.cases import CertificateFactsMediationDeclinedV1, CertificateFactsSubmittedV1
from shared.events.meetings import MeetingDeadlineMissedV1


async def keep_case_facts(event: Envelope[CertificateFactsSubmittedV1 | CertificateFactsMediationDeclinedV1],
                          session: AsyncSession) -> None:
    await certificate_service.keep_case_facts(session, event.data)


async def request_adviser_certificate(event: Envelope[CertificateFactsMediationDeclinedV1], session: AsyncSession) -> None:
    """R6: the adviser issues the certificate within 3 working days of being told."""
    authority = load_directory().get(event.data.la_code)
    adviser = authority.mediation_adviser.name if authority else "Mediation adviser"
    provider = authority.mediation_provider.name if authority else "Mediation provider"
    await certificate_service.request(
        session, case_id=event.subject, kind=CertificateKind.adviser, trigger_ref="declined",
        trigger_event_id=event.id, triggered_on=event.data.told_adviser_on, issuer=adviser, provider=provider,
    )


async def request_mediator_certificate(event: Envelope[MeetingConcludedV1], session: AsyncSession) -> None:
    """R15: the mediator issues a certificate within 3 working days of the mediation concluding.

    The issuer decides once the case's facts are known: none for a health-only case (R2), a review after late
    contact (R4) or after an R10 certificate (R10 then mediation).
    """
    await certificate_service.request(
        session, case_id=event.subject, kind=CertificateKind.mediator, trigger_ref=event.data.meeting_id,
        trigger_event_id=event.id, triggered_on=event.data.concluded_on, issuer=event.data.mediator_name,
        provider=event.data.provider_name, mediation_date=event.data.concluded_on if event.data.held else None,
    )


async def request_missed_deadline_certificate(event: Envelope[MeetingDeadlineMissedV1], session: AsyncSession) -> None:
    """R10: told that mediation cannot be arranged within 30 days, the adviser issues a certificate within 3 working days.

    One per case: a second report of the same miss adds nothing. Mediation may still take place later: this
    certificate then stays the one that counts, records the meeting and raises a review for the adviser, who may
    replace it through a correction (R16); no second valid certificate with another appeal deadline is issued.
    """
    case = await certificate_service.case_facts(session, event.subject)
    authority = load_directory().get(case.la_code) if case is not None else None
    # Facts not here yet (another topic): the issuer fills in the LA's adviser once they are.
    adviser = authority.mediation_adviser.name if authority else ""
    provider = authority.mediation_provider.name if authority else ""
    await certificate_service.request(
        session, case_id=event.subject, kind=CertificateKind.missed_deadline, trigger_ref="deadline_missed",
        trigger_event_id=event.id, triggered_on=event.data.adviser_told_on, issuer=adviser, provider=provider,
    )
