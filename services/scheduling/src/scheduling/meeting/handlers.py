from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting import service as meeting_service
from shared import clock
from shared.events import Envelope
from shared.events.cases import (
    ReferralConsentRecordedV1,
    ReferralDeadlinesChangedV1,
    ReferralDisagreementResolutionRequestedV1,
    ReferralMediationDeclinedV1,
    ReferralSubmittedV1,
    ReferralWithdrawnV1,
)


async def book_meeting_for_case(event: Envelope[ReferralSubmittedV1], session: AsyncSession) -> None:
    settings = session.info["settings"]
    await meeting_service.book_for_case(session, event.data, today=clock.today(),
                                        timezone=settings.meeting_timezone)


async def move_deadline_for_case(event: Envelope[ReferralDeadlinesChangedV1], session: AsyncSession) -> None:
    await meeting_service.move_deadline(session, event.subject, mediate_by=event.data.mediate_by, today=clock.today(),
                                        timezone=session.info["settings"].meeting_timezone)


async def cancel_meeting_for_withdrawn_case(event: Envelope[ReferralWithdrawnV1], session: AsyncSession) -> None:
    await meeting_service.cancel_for_case(session, event.subject, reason="case_withdrawn")


async def cancel_meeting_for_declined_mediation(event: Envelope[ReferralMediationDeclinedV1],
                                                session: AsyncSession) -> None:
    await meeting_service.cancel_for_case(session, event.subject, reason="mediation_declined")


async def book_disagreement_resolution_once_consented(
        event: Envelope[ReferralDisagreementResolutionRequestedV1], session: AsyncSession) -> None:
    data = event.data
    await meeting_service.note_disagreement_resolution(
        session, case_id=data.case_id, reference=data.reference, la_code=data.la_code, dr_type=data.dr_type,
        missing=[p.role for p in data.parties if not p.consented], today=clock.today(),
        timezone=session.info["settings"].meeting_timezone)


async def book_when_every_party_has_consented(event: Envelope[ReferralConsentRecordedV1], session: AsyncSession) -> None:
    request = await meeting_service.get_disagreement_resolution(session, event.subject)
    await meeting_service.note_disagreement_resolution(
        session, case_id=event.subject, reference=request.reference, la_code=request.la_code,
        dr_type=request.dr_type, missing=list(event.data.missing), today=clock.today(),
        timezone=session.info["settings"].meeting_timezone)
