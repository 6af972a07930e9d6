"""Events become queued messages; the sender worker delivers them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.meeting import service as meeting_service
from notifications.meeting.models import InvitationStatus, MeetingInvitation
from notifications.message import service as message_service
from notifications.message.catalogue import (
    CASE_RECEIVED,
    CERTIFICATE_ISSUED,
    DECLINE_RECEIVED,
    FAMILY_ROLES,
    MEETING_CANCELLED,
    MEETING_REMINDER,
    MEETING_RESCHEDULED,
    MEETING_SCHEDULED,
    REQUESTER,
)
from notifications.reminder import rules as reminder_rules
from notifications.reminder import service as reminder_service
from notifications.settings import NotificationsSettings
from shared.directory import load_directory
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CertificateDocumentReadyV1,
    Envelope,
    MeetingScheduledV1,
)
from shared.events.cases import CaseDisagreementResolutionRequestedV1
from shared.events.meetings import MeetingCancelledV1, MeetingRescheduledV1
from shared.logging import get_logger

log = get_logger(__name__)


def _settings(session: AsyncSession) -> NotificationsSettings:
    settings: NotificationsSettings = session.info["settings"]
    return settings


def _day(value: object) -> str:
    return value.strftime("%-d %B %Y") if hasattr(value, "strftime") else str(value)


async def acknowledge_request(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
    await message_service.remember_requester(session, event.data)
    authority = load_directory().get(event.data.la_code)
    provider = authority.mediation_provider if authority else None
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=event.data.la_code, template=CASE_RECEIVED,
        role=REQUESTER, domain=_settings(session).message_id_domain,
        context={"mediate_by": _day(event.data.mediate_by),
                 "provider_name": provider.name if provider else "The mediation provider",
                 "provider_phone": (provider.phone if provider else None) or "",
                 "provider_email": (provider.email if provider else None) or ""},
    )


async def acknowledge_decline(event: Envelope[CaseMediationDeclinedV1], session: AsyncSession) -> None:
    await message_service.remember_requester(session, event.data)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=event.data.la_code, template=DECLINE_RECEIVED,
        role=REQUESTER, domain=_settings(session).message_id_domain,
        context={"certificate_due_on": _day(event.data.certificate_due_on)},
    )


async def _meeting_addressee(session: AsyncSession, case_id: str) -> str:
    recipient = await message_service.recipient_for(session, case_id, REQUESTER)
    return recipient.la_code if recipient else ""


async def _plan_meeting_reminder(session: AsyncSession, meeting: MeetingInvitation, *, la_code: str) -> None:
    settings = _settings(session)
    if not await message_service.case_has_requester(session, meeting.case_id):
        return
    await reminder_service.plan(
        session, key=f"meeting:{meeting.meeting_id}:{meeting.sequence}", case_id=meeting.case_id, la_code=la_code,
        kind=reminder_service.MEETING, about_id=meeting.meeting_id, template=MEETING_REMINDER, role=REQUESTER,
        context=meeting_service.details(meeting), expires_at=meeting.starts_at,
        due_at=reminder_rules.meeting_reminder_due(meeting.starts_at, working_days=settings.meeting_reminder_working_days,
                                                   at=settings.meeting_reminder_time),
    )


async def invite_to_meeting(event: Envelope[MeetingScheduledV1], session: AsyncSession) -> None:
    """The invitation (METHOD:REQUEST, SEQUENCE 0) and a reminder before the meeting."""
    settings = _settings(session)
    meeting = await meeting_service.record_booking(session, event.data, domain=settings.message_id_domain)
    la_code = await _meeting_addressee(session, event.subject)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=la_code, template=MEETING_SCHEDULED,
        role=REQUESTER, domain=settings.message_id_domain,
        context={"invitation": meeting_service.invitation(meeting, method="REQUEST"), **meeting_service.details(meeting)},
    )
    await _plan_meeting_reminder(session, meeting, la_code=la_code)


async def update_meeting_invitation(event: Envelope[MeetingRescheduledV1], session: AsyncSession) -> None:
    """The same calendar entry moved: same UID, SEQUENCE + 1; the reminder is planned again for the new time."""
    settings = _settings(session)
    existing = await meeting_service.get(session, event.data.meeting_id)
    if existing is not None and existing.status is InvitationStatus.cancelled:
        log.warning("meeting.reschedule_after_cancellation_ignored", case_id=event.subject)
        return
    meeting = await meeting_service.record_move(session, event.data, domain=settings.message_id_domain)
    la_code = await _meeting_addressee(session, event.subject)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=la_code, template=MEETING_RESCHEDULED,
        role=REQUESTER, domain=settings.message_id_domain,
        context={"invitation": meeting_service.invitation(meeting, method="REQUEST"), **meeting_service.details(meeting)},
    )
    await reminder_service.cancel(session, kind=reminder_service.MEETING, about_id=meeting.meeting_id)
    await _plan_meeting_reminder(session, meeting, la_code=la_code)


async def cancel_meeting_invitation(event: Envelope[MeetingCancelledV1], session: AsyncSession) -> None:
    """Withdraw the calendar entry (METHOD:CANCEL, same UID) and its reminders."""
    settings = _settings(session)
    meeting = await meeting_service.get(session, event.data.meeting_id)
    if meeting is None:  # no invitation was ever sent, so there is nothing to withdraw
        log.warning("meeting.cancellation_of_unknown_meeting", case_id=event.subject)
        return
    if meeting.status is InvitationStatus.cancelled:
        return
    meeting_service.record_cancellation(session, meeting, sequence=event.data.sequence)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=await _meeting_addressee(session, event.subject),
        template=MEETING_CANCELLED, role=REQUESTER, domain=settings.message_id_domain,
        context={"invitation": meeting_service.invitation(meeting, method="CANCEL"), **meeting_service.details(meeting)},
    )
    await reminder_service.cancel(session, kind=reminder_service.MEETING, about_id=meeting.meeting_id)


async def send_certificate(event: Envelope[CertificateDocumentReadyV1], session: AsyncSession) -> None:
    data = event.data
    recipient = await message_service.recipient_for(session, event.subject, REQUESTER)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=recipient.la_code if recipient else "",
        template=CERTIFICATE_ISSUED, role=REQUESTER, domain=_settings(session).message_id_domain,
        attachment=message_service.pdf_attachment(data.filename, data.pdf_base64),
        context={"certificate_number": data.number, "issued_on": _day(data.issued_on)},
    )


async def remember_disagreement_resolution_parties(event: Envelope[CaseDisagreementResolutionRequestedV1],
                                                   session: AsyncSession) -> None:
    """Who to write to on a disagreement-resolution case; a type-4 case has no parent to write to (R21)."""
    data = event.data
    family = next((p for p in data.parties if p.role in FAMILY_ROLES and p.email), None)
    await message_service.remember_audience(
        session, case_id=event.subject, la_code=data.la_code, reference=data.reference, dr_type=data.dr_type,
        family=(family.name, family.email) if family is not None and family.email else None)
