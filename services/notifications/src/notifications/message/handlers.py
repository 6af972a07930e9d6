"""Events become queued messages; the sender worker delivers them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.message import service as message_service
from notifications.message.catalogue import (
    CASE_RECEIVED,
    CERTIFICATE_ISSUED,
    DECLINE_RECEIVED,
    MEETING_SCHEDULED,
    REQUESTER,
)
from notifications.settings import NotificationsSettings
from shared.directory import load_directory
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CertificateDocumentReadyV1,
    Envelope,
    MeetingScheduledV1,
)


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


async def invite_to_meeting(event: Envelope[MeetingScheduledV1], session: AsyncSession) -> None:
    settings = _settings(session)
    data = event.data
    recipient = await message_service.recipient_for(session, event.subject, REQUESTER)
    la_code = recipient.la_code if recipient else ""
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=la_code, template=MEETING_SCHEDULED,
        role=REQUESTER, domain=settings.message_id_domain,
        context={"invitation": {"uid": f"{data.meeting_id}@{settings.message_id_domain}", "sequence": 0,
                                "starts_at": data.starts_at.isoformat(), "ends_at": data.ends_at.isoformat(),
                                "location": data.location},
                 "starts_at": data.starts_at.strftime("%A %-d %B %Y, %H:%M"), "ends_at": data.ends_at.strftime("%H:%M"),
                 "location": data.location, "mediator_name": data.mediator_name,
                 "provider_name": data.provider_name},
    )


async def send_certificate(event: Envelope[CertificateDocumentReadyV1], session: AsyncSession) -> None:
    data = event.data
    recipient = await message_service.recipient_for(session, event.subject, REQUESTER)
    await message_service.queue(
        session, event_id=event.id, case_id=event.subject, la_code=recipient.la_code if recipient else "",
        template=CERTIFICATE_ISSUED, role=REQUESTER, domain=_settings(session).message_id_domain,
        attachment=message_service.pdf_attachment(data.filename, data.pdf_base64),
        context={"certificate_number": data.number, "issued_on": _day(data.issued_on)},
    )
