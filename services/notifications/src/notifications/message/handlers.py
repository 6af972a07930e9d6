"""Events become queued messages, following the catalogue; the sender worker delivers them.

Each handler works out the facts of its event (the context the templates
need, which conditions hold) and ``_notify`` queues what ``CATALOGUE`` says
for that event type. Staff messages carry the case reference, never a name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.meeting import service as meeting_service
from notifications.meeting.models import InvitationStatus, MeetingInvitation
from notifications.message import service as message_service
from notifications.message.catalogue import (
    ADVISER,
    CATALOGUE,
    CERTIFICATE_DUE_REMINDER,
    DEADLINE_AT_RISK_ALERT,
    FAMILY_ROLES,
    HEALTH_BODY,
    HEALTH_MEETING,
    LA_OFFICER,
    MEDIATOR,
    MEDIATOR_KNOWN,
    MEETING_REMINDER,
    OPS,
    PROVIDER,
    REQUESTER,
)
from notifications.message.models import CaseAudience, Message
from notifications.message.rendering import LONDON
from notifications.metrics import OPS_ALERTS
from notifications.reminder import rules as reminder_rules
from notifications.reminder import service as reminder_service
from notifications.settings import NotificationsSettings
from shared.db import after_commit
from shared.directory import load_directory
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateDocumentReadyV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    Envelope,
    MeetingConcludedV1,
    MeetingScheduledV1,
)
from shared.events.cases import CaseDeadlinesChangedV1, CaseDisagreementResolutionRequestedV1, CaseHealthReferralV1
from shared.events.meetings import (
    MeetingCancelledV1,
    MeetingDeadlineBreachedV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    MeetingRescheduledV1,
    ProviderEndpointDisabledV1,
)
from shared.logging import get_logger

log = get_logger(__name__)

ARRANGING_BODY_WORDS = {"local_authority": "the local authority", "health_commissioning_body": "the health commissioning body"}
CERTIFICATE_KIND_WORDS = {"adviser": "adviser certificate (mediation declined)",
                          "mediator": "mediator certificate (mediation took place)",
                          "missed_deadline": "certificate after mediation could not be arranged in 30 days"}
WITHDRAWAL_WORDS = {"no_longer_disputed": "the decision is no longer disputed",
                    "appeal_not_pursued": "the appeal will not be pursued",
                    "resolved_otherwise": "the disagreement was resolved another way", "other": "another reason"}
AGREEMENT_WORDS = {"full": "full agreement", "partial": "partial agreement", "none": "no agreement"}


def _settings(session: AsyncSession) -> NotificationsSettings:
    settings: NotificationsSettings = session.info["settings"]
    return settings


def _day(value: object) -> str:
    return value.strftime("%-d %B %Y") if hasattr(value, "strftime") else str(value)


async def _notify(session: AsyncSession, event: Envelope[Any], *, la_code: str, context: dict[str, Any],
                  conditions: Iterable[str] = (), meeting: MeetingInvitation | None = None,
                  document: tuple[str, bytes] | None = None) -> list[Message]:
    """Queue every message ``CATALOGUE`` lists for this event type whose condition holds."""
    holding, queued = set(conditions), []
    for send in CATALOGUE[event.type]:
        if send.when is not None and send.when not in holding:
            continue
        refs: list[str | None] = [None]
        if send.to == HEALTH_BODY:
            authority = load_directory().get(la_code) if la_code else None
            refs = [body.id for body in authority.health_commissioning_bodies] if authority else []
            if not refs:
                log.warning("message.no_health_bodies", case_id=event.subject, template=send.template.name)
        elif send.to == MEDIATOR:
            refs = [meeting.meeting_id] if meeting is not None and meeting.mediator_email else []
        for ref in refs:
            message = await message_service.queue(
                session, event_id=event.id, case_id=event.subject, la_code=la_code, template=send.template,
                role=send.to, ref=ref, domain=_settings(session).message_id_domain, context=context,
                attachment=document if send.attach_document else None)
            if message is not None:
                queued.append(message)
    return queued


async def _case(session: AsyncSession, case_id: str) -> CaseAudience | None:
    return await message_service.case_facts(session, case_id)


async def _la_code(session: AsyncSession, case_id: str) -> str:
    """The case's LA, from whichever case event arrived first (the meetings topic may run ahead: then empty)."""
    case = await _case(session, case_id)
    if case is not None and case.la_code:
        return case.la_code
    recipient = await message_service.recipient_for(session, case_id, REQUESTER)
    return recipient.la_code if recipient else ""


def _meeting_conditions(meeting: MeetingInvitation, case: CaseAudience | None, *, health_issues: bool = False) -> set[str]:
    """``health_issues`` from the booking itself: the meetings topic may run ahead of the case's own event."""
    conditions = {MEDIATOR_KNOWN} if meeting.mediator_email else set()
    if (meeting.arranging_body == "health_commissioning_body" or health_issues or (case is not None and case.health_issues)
            or (case is not None and case.dr_type == 4)):
        conditions.add(HEALTH_MEETING)
    return conditions


# Cases.


async def notify_health_bodies(event: Envelope[CaseHealthReferralV1], session: AsyncSession) -> None:
    """R8: each responsible health commissioning body gets the mediation issues and the provision wanted."""
    data = event.data
    await message_service.remember_case(session, case_id=data.case_id, la_code=data.la_code, reference=data.reference,
                                        health_issues=True)
    await _notify(session, event, la_code=data.la_code,
                  context={"mediate_by": _day(data.mediate_by), "tell_by": _day(data.tell_by),
                           "health_only": data.health_only, "mediation_issues": list(data.mediation_issues),
                           "health_provision_wanted": data.health_provision_wanted or ""})


async def acknowledge_request(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
    """The parent's acknowledgement, the LA's new request, the health bodies' notice (R8); an at-risk alert planned."""
    data = event.data
    await message_service.remember_requester(session, data)
    await message_service.remember_case(session, case_id=data.case_id, la_code=data.la_code, reference=data.reference,
                                        health_issues=data.health_issues)
    authority = load_directory().get(data.la_code)
    provider = authority.mediation_provider if authority else None
    await _notify(session, event, la_code=data.la_code,
                  context={"mediate_by": _day(data.mediate_by),
                           "provider_name": provider.name if provider else "The mediation provider",
                           "provider_phone": (provider.phone if provider else None) or "",
                           "provider_email": (provider.email if provider else None) or "",
                           "arranging_body": ARRANGING_BODY_WORDS[data.arranging_body],
                           "health_issues": data.health_issues, "health_only": data.health_only})
    await _plan_at_risk_alerts(session, case_id=data.case_id, la_code=data.la_code, mediate_by=data.mediate_by)


async def _plan_at_risk_alerts(session: AsyncSession, *, case_id: str, la_code: str, mediate_by: date) -> None:
    settings = _settings(session)
    for role in (LA_OFFICER, OPS):
        await reminder_service.plan(
            session, key=f"at_risk:{case_id}:{mediate_by.isoformat()}:{role}", case_id=case_id,
            la_code=la_code, kind=reminder_service.DEADLINE_AT_RISK, about_id=case_id,
            template=DEADLINE_AT_RISK_ALERT, role=role,
            context={"mediate_by": _day(mediate_by), "working_days": settings.deadline_at_risk_working_days},
            due_at=reminder_rules.before_day(mediate_by, working_days=settings.deadline_at_risk_working_days,
                                             at=settings.staff_reminder_time),
            expires_at=reminder_rules.end_of(mediate_by))


async def move_deadline_alerts(event: Envelope[CaseDeadlinesChangedV1], session: AsyncSession) -> None:
    """The mediation's 30 days now run from another day (R8): the at-risk alerts move with ``mediate_by``.

    Pending alerts give way to ones planned for the new date; a case whose alerts were already called off
    (held, declined, withdrawn, breached) plans none, since that cancellation is kept."""
    data = event.data
    await reminder_service.supersede(session, case_id=data.case_id, kind=reminder_service.DEADLINE_AT_RISK,
                                     about_id=data.case_id)
    await _plan_at_risk_alerts(session, case_id=data.case_id, la_code=data.la_code, mediate_by=data.mediate_by)


async def _plan_certificate_reminder(session: AsyncSession, *, case_id: str, la_code: str, due_on: date, rule: str,
                                     role: str, ref: str | None = None) -> None:
    settings = _settings(session)
    await reminder_service.plan(
        session, key=f"certificate_due:{case_id}:{rule}:{due_on.isoformat()}", case_id=case_id, la_code=la_code,
        kind=reminder_service.CERTIFICATE_DUE, about_id=case_id, template=CERTIFICATE_DUE_REMINDER, role=role,
        ref=ref, context={"certificate_due_on": _day(due_on), "rule": rule},
        due_at=reminder_rules.before_day(due_on, working_days=1, at=settings.staff_reminder_time),
        expires_at=reminder_rules.end_of(due_on))


async def acknowledge_decline(event: Envelope[CaseMediationDeclinedV1], session: AsyncSession) -> None:
    """R6: the adviser certificate is due; the adviser is reminded the working day before."""
    data = event.data
    await message_service.remember_requester(session, data)
    await message_service.remember_case(session, case_id=data.case_id, la_code=data.la_code, reference=data.reference)
    await _notify(session, event, la_code=data.la_code, context={"certificate_due_on": _day(data.certificate_due_on),
                                                                 "told_adviser_on": _day(data.told_adviser_on)})
    await reminder_service.cancel(session, case_id=data.case_id, kind=reminder_service.DEADLINE_AT_RISK,
                                  about_id=data.case_id, reason=event.type)
    await _plan_certificate_reminder(session, case_id=data.case_id, la_code=data.la_code, due_on=data.certificate_due_on,
                                     rule="R6", role=ADVISER)


async def note_withdrawal(event: Envelope[CaseWithdrawnV1], session: AsyncSession) -> None:
    """The LA (and the booked meeting's mediator) learn the case is withdrawn; nothing further is reminded."""
    data = event.data
    meeting = await meeting_service.latest_booked(session, data.case_id)
    await _notify(session, event, la_code=data.la_code, meeting=meeting,
                  conditions={MEDIATOR_KNOWN} if meeting is not None and meeting.mediator_email else (),
                  context={"withdrawn_on": _day(data.withdrawn_on), "reason": WITHDRAWAL_WORDS[data.reason]})
    await reminder_service.cancel(session, case_id=data.case_id, kind=None, reason=event.type)


async def remember_disagreement_resolution_parties(event: Envelope[CaseDisagreementResolutionRequestedV1],
                                                   session: AsyncSession) -> None:
    """Who to write to on a disagreement-resolution case; a type-4 case has no parent to write to (R21)."""
    data = event.data
    family = next((p for p in data.parties if p.role in FAMILY_ROLES and p.email), None)
    await message_service.remember_audience(
        session, case_id=event.subject, la_code=data.la_code, reference=data.reference, dr_type=data.dr_type,
        family=(family.name, family.email) if family is not None and family.email else None)
    await _notify(session, event, la_code=data.la_code,
                  context={"dr_type": data.dr_type, "all_consented": data.all_consented,
                           "parties": ", ".join(p.role.replace("_", " ") for p in data.parties)})


# Meetings.


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
    """Invitations (METHOD:REQUEST, SEQUENCE 0) to every party and a reminder for the family before the meeting."""
    settings = _settings(session)
    meeting = await meeting_service.record_booking(session, event.data, domain=settings.message_id_domain)
    la_code, case = event.data.la_code or await _la_code(session, event.subject), await _case(session, event.subject)
    await _notify(session, event, la_code=la_code, meeting=meeting,
                  conditions=_meeting_conditions(meeting, case, health_issues=event.data.health_issues),
                  context={"invitation": meeting_service.invitation(meeting, method="REQUEST"),
                           **meeting_service.details(meeting)})
    await _plan_meeting_reminder(session, meeting, la_code=la_code)


async def update_meeting_invitation(event: Envelope[MeetingRescheduledV1], session: AsyncSession) -> None:
    """The same calendar entry moved: same UID, SEQUENCE + 1; the reminder is planned again for the new time."""
    settings = _settings(session)
    existing = await meeting_service.get(session, event.data.meeting_id)
    if existing is not None and existing.status is InvitationStatus.cancelled:
        log.warning("meeting.reschedule_after_cancellation_ignored", case_id=event.subject)
        return
    meeting = await meeting_service.record_move(session, event.data, domain=settings.message_id_domain)
    la_code, case = await _la_code(session, event.subject), await _case(session, event.subject)
    await _notify(session, event, la_code=la_code, meeting=meeting, conditions=_meeting_conditions(meeting, case),
                  context={"invitation": meeting_service.invitation(meeting, method="REQUEST"),
                           **meeting_service.details(meeting)})
    await reminder_service.supersede(session, case_id=meeting.case_id, kind=reminder_service.MEETING,
                                     about_id=meeting.meeting_id)
    await _plan_meeting_reminder(session, meeting, la_code=la_code)


async def cancel_meeting_invitation(event: Envelope[MeetingCancelledV1], session: AsyncSession) -> None:
    """Withdraw the calendar entry (METHOD:CANCEL, same UID) for every party, and its reminders."""
    meeting = await meeting_service.get(session, event.data.meeting_id)
    if meeting is None:  # no invitation was ever sent, so there is nothing to withdraw
        log.warning("meeting.cancellation_of_unknown_meeting", case_id=event.subject)
        return
    if meeting.status is InvitationStatus.cancelled:
        return
    meeting_service.record_cancellation(session, meeting, sequence=event.data.sequence)
    la_code, case = await _la_code(session, event.subject), await _case(session, event.subject)
    await _notify(session, event, la_code=la_code, meeting=meeting, conditions=_meeting_conditions(meeting, case),
                  context={"invitation": meeting_service.invitation(meeting, method="CANCEL"),
                           **meeting_service.details(meeting)})
    await reminder_service.cancel(session, case_id=meeting.case_id, kind=reminder_service.MEETING,
                                  about_id=meeting.meeting_id, reason=event.type)


async def note_meeting_concluded(event: Envelope[MeetingConcludedV1], session: AsyncSession) -> None:
    """The LA learns the meeting concluded (held and agreement only, never what was said: R20); R15 reminder planned."""
    data = event.data
    la_code = await _la_code(session, event.subject)
    due_on = reminder_rules.certificate_due_on(data.concluded_on)
    await _notify(session, event, la_code=la_code,
                  context={"concluded_on": _day(data.concluded_on), "held": data.held,
                           "agreement": AGREEMENT_WORDS[data.agreement], "certificate_due_on": _day(due_on)})
    # The meeting is over: its reminder is pointless, whether or not it was planned yet.
    await reminder_service.cancel(session, case_id=data.case_id, kind=reminder_service.MEETING,
                                  about_id=data.meeting_id, reason=event.type)
    if data.held:
        await reminder_service.cancel(session, case_id=data.case_id, kind=reminder_service.DEADLINE_AT_RISK,
                                      about_id=data.case_id, reason=event.type)
    meeting = await meeting_service.get(session, data.meeting_id)
    if meeting is not None and meeting.mediator_email:
        await _plan_certificate_reminder(session, case_id=data.case_id, la_code=la_code, due_on=due_on, rule="R15",
                                         role=MEDIATOR, ref=meeting.meeting_id)
    else:
        await _plan_certificate_reminder(session, case_id=data.case_id, la_code=la_code, due_on=due_on, rule="R15",
                                         role=PROVIDER)


async def note_no_show(event: Envelope[MeetingNoShowV1], session: AsyncSession) -> None:
    """The family and the LA learn the meeting did not go ahead, in neutral words (no party is named)."""
    scheduled_for = event.data.scheduled_for.astimezone(LONDON)
    await _notify(session, event, la_code=await _la_code(session, event.subject),
                  context={"scheduled_for": scheduled_for.strftime("%A %-d %B %Y, %H:%M")})


async def note_deadline_missed(event: Envelope[MeetingDeadlineMissedV1], session: AsyncSession) -> None:
    """R10: the family and the LA learn a certificate follows within 3 working days; the adviser is reminded."""
    data = event.data
    la_code = await _la_code(session, event.subject)
    due_on = reminder_rules.certificate_due_on(data.adviser_told_on)
    await _notify(session, event, la_code=la_code,
                  context={"mediate_by": _day(data.mediate_by), "certificate_due_on": _day(due_on),
                           "arranging_body": ARRANGING_BODY_WORDS[data.arranging_body]})
    await _plan_certificate_reminder(session, case_id=data.case_id, la_code=la_code, due_on=due_on, rule="R10",
                                     role=ADVISER)


async def raise_deadline_breach(event: Envelope[MeetingDeadlineBreachedV1], session: AsyncSession) -> None:
    """R10, day 30 with no meeting held: an alert to the LA and to ops (email, metric and an error log)."""
    data = event.data
    await _notify(session, event, la_code=data.la_code,
                  context={"mediate_by": _day(data.mediate_by), "arranging_body": ARRANGING_BODY_WORDS[data.arranging_body],
                           "meeting_status": data.meeting_status.replace("_", " ")})
    await reminder_service.cancel(session, case_id=data.case_id, kind=reminder_service.DEADLINE_AT_RISK,
                                  about_id=data.case_id, reason=event.type)
    after_commit(session, OPS_ALERTS.labels("deadline_breached").inc)
    log.error("deadline.breached", case_id=data.case_id, mediate_by=data.mediate_by.isoformat(),
              meeting_status=data.meeting_status)


async def alert_endpoint_disabled(event: Envelope[ProviderEndpointDisabledV1], session: AsyncSession) -> None:
    """Scheduling stopped sending webhooks to a provider endpoint: ops must fix and recover it, since the
    provider hears of no referral or booking change until then (email, metric and an error log)."""
    data = event.data
    await _notify(session, event, la_code=await _la_code(session, event.subject),
                  context={"endpoint_id": data.endpoint_id, "provider_id": data.provider_id,
                           "reason": data.reason[:200], "failed_message_id": data.failed_message_id})
    after_commit(session, OPS_ALERTS.labels("provider_endpoint_disabled").inc)
    log.error("webhook.endpoint_disabled_alerted", endpoint_id=data.endpoint_id, provider_id=data.provider_id)


# Certificates.


def verification_url(base_url: str, number: str) -> str:
    """The certificates service's verification page (GET /v1/verify?number=...), as on the PDF's QR code."""
    return f"{base_url.rstrip('/')}/v1/verify?number={quote(number)}"


async def send_certificate(event: Envelope[CertificateDocumentReadyV1], session: AsyncSession) -> None:
    """The PDF to the parent or young person only (it names the child); the LA gets a notice without it."""
    data = event.data
    await _notify(
        session, event, la_code=await _la_code(session, event.subject),
        document=message_service.pdf_attachment(data.filename, data.pdf_base64),
        context={"certificate_number": data.number, "issued_on": _day(data.issued_on),
                 "certificate_kind": CERTIFICATE_KIND_WORDS[data.kind],
                 "verify_url": verification_url(_settings(session).certificates_public_base_url, data.number)})
    await reminder_service.cancel(session, case_id=data.case_id, kind=reminder_service.CERTIFICATE_DUE,
                                  about_id=data.case_id, reason=event.type)


async def stop_certificate_reminders(
    event: Envelope[CertificateIssuedV1] | Envelope[CertificateNotRequiredV1] | Envelope[CertificateReviewRequestedV1],
    session: AsyncSession,
) -> None:
    """The certificate was issued, is not required (R2, R10 then mediation), or waits for a person's review
    (R4 late contact): nobody needs reminding that one is due."""
    cancelled = await reminder_service.cancel(session, case_id=event.data.case_id, kind=reminder_service.CERTIFICATE_DUE,
                                              about_id=event.data.case_id, reason=event.type)
    if cancelled:
        log.info("reminder.certificate_due_cancelled", case_id=event.data.case_id, count=len(cancelled))
