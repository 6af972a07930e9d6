"""Other services' events become steps on the case timeline."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.case import service as case_service
from intake.case.models import CaseKind, CaseStatus
from intake.timeline import service as timeline_service
from shared.events import (
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    Envelope,
    NotificationFailedV1,
    NotificationSentV1,
)
from shared.events.meetings import TimelineMeetingConcludedV1, TimelineMeetingScheduledV1


def _meeting_words(kind: CaseKind) -> str:
    """What the meeting is called: disagreement resolution (R21) is not mediation."""
    return "Disagreement-resolution meeting" if kind is CaseKind.disagreement_resolution else "Mediation meeting"


async def add_meeting_scheduled(event: Envelope[TimelineMeetingScheduledV1], session: AsyncSession) -> None:
    case = await case_service.advance(session, event.subject, CaseStatus.meeting_scheduled)
    when = event.data.starts_at.strftime("%d %b %Y %H:%M")
    timeline_service.add(session, case_id=event.subject, kind="meeting_scheduled", at=event.time,
                         summary=f"{_meeting_words(case.kind)} booked for {when} with {event.data.provider_name}",
                         reference=event.data.meeting_id, source_event=event.id)


async def add_meeting_concluded(event: Envelope[TimelineMeetingConcludedV1], session: AsyncSession) -> None:
    case = await case_service.record_conclusion(session, event.subject, concluded_on=event.data.concluded_on,
                                                held=event.data.held)
    words = "Disagreement resolution" if case.kind is CaseKind.disagreement_resolution else "Mediation"
    timeline_service.add(session, case_id=event.subject, kind="meeting_concluded", at=event.time,
                         summary=f"{words} concluded on {event.data.concluded_on} ({event.data.agreement} agreement)",
                         reference=event.data.meeting_id, source_event=event.id)


async def add_certificate_issued(event: Envelope[CertificateIssuedV1], session: AsyncSession) -> None:
    await case_service.record_certificate(session, event.subject, event.data.issued_on)
    timeline_service.add(session, case_id=event.subject, kind="certificate_issued", at=event.time,
                         summary=f"{event.data.kind.replace('_', ' ').capitalize()} certificate "
                                 f"{event.data.number} issued on {event.data.issued_on}",
                         reference=event.data.certificate_id, source_event=event.id)


#: Why no certificate came, in the portal's words.
NOT_REQUIRED_WORDS = {
    "health_only": "health care provision alone cannot be appealed to the Tribunal (R2)",
    "missed_deadline_certificate_counts": "the certificate issued when the 30 days were missed still counts (R10)",
}

#: What a person is asked to decide before any certificate.
REVIEW_WORDS = {
    "late_contact": "the adviser was contacted after the 2-month window (R4)",
    "mediation_after_missed_deadline": "mediation was held after the certificate for the missed 30 days (R10)",
}


async def add_certificate_not_required(event: Envelope[CertificateNotRequiredV1], session: AsyncSession) -> None:
    await case_service.get_or_raise(session, event.subject)
    timeline_service.add(session, case_id=event.subject, kind="certificate_not_required", at=event.time,
                         summary=f"No {event.data.kind.replace('_', ' ')} certificate: "
                                 f"{NOT_REQUIRED_WORDS[event.data.reason]}",
                         reference=event.data.trigger_ref, source_event=event.id)


async def add_certificate_review_requested(event: Envelope[CertificateReviewRequestedV1],
                                           session: AsyncSession) -> None:
    await case_service.get_or_raise(session, event.subject)
    timeline_service.add(session, case_id=event.subject, kind="certificate_review_requested", at=event.time,
                         summary=f"A person decides on the {event.data.certificate_kind.replace('_', ' ')} "
                                 f"certificate: {REVIEW_WORDS[event.data.kind]}",
                         reference=event.data.review_id, source_event=event.id)


async def add_notification_sent(event: Envelope[NotificationSentV1], session: AsyncSession) -> None:
    await case_service.get_or_raise(session, event.subject)
    timeline_service.add(session, case_id=event.subject, kind="email_sent", at=event.time,
                         summary=f"Email '{event.data.template}' sent to the {event.data.recipient_role}",
                         reference=event.data.message_id, source_event=event.id)


async def add_notification_failed(event: Envelope[NotificationFailedV1], session: AsyncSession) -> None:
    await case_service.get_or_raise(session, event.subject)
    timeline_service.add(session, case_id=event.subject, kind="email_failed", at=event.time,
                         summary=f"Email '{event.data.template}' to the {event.data.recipient_role} failed: "
                                 f"{event.data.reason}",
                         reference=event.data.message_id, source_event=event.id)
