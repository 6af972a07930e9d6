"""Messages: queued by handlers, sent by the sender worker. Flush, never commit."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.message import rendering
from notifications.message.catalogue import REQUESTER, TEMPLATES, Template, may_address
from notifications.message.models import CaseAudience, Message, MessageStatus, Recipient
from notifications.metrics import DEADLINE_ALERTS
from notifications.settings import NotificationsSettings
from shared.db import wake_after_commit
from shared.directory import load_directory
from shared.errors import NotFound
from shared.events import NotificationFailedV1, NotificationSentV1
from shared.events.cases import CaseFacts
from shared.events.notifications import NotificationAlertRaisedV1
from shared.logging import bound_contextvars, get_logger
from shared.outbox import add_event

log = get_logger(__name__)

SENDER = "email_sender"
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200)  # seconds, after each temporary failure


class MessageNotFound(NotFound):
    title = "Message not found"


async def remember_requester(session: AsyncSession, facts: CaseFacts) -> None:
    recipient = await session.get(Recipient, (facts.case_id, REQUESTER)) or Recipient(
        case_id=facts.case_id, role=REQUESTER, la_code=facts.la_code, case_reference=facts.reference,
        name=facts.requester.name, email=facts.requester.email)
    recipient.name, recipient.email = facts.requester.name, facts.requester.email
    session.add(recipient)
    wake_after_commit(session, SENDER)  # messages may be waiting for this address


async def case_has_requester(session: AsyncSession, case_id: str) -> bool:
    audience = await session.get(CaseAudience, case_id)
    return audience is None or audience.has_requester


async def remember_audience(session: AsyncSession, *, case_id: str, la_code: str, reference: str, dr_type: int,
                            family: tuple[str, str] | None) -> None:
    """A disagreement-resolution case: its parent or young person (name, email), or none at all (type 4, R21)."""
    session.add(await session.get(CaseAudience, case_id) or CaseAudience(
        case_id=case_id, has_requester=family is not None, dr_type=dr_type))
    if family is not None:
        name, email = family
        recipient = await session.get(Recipient, (case_id, REQUESTER)) or Recipient(
            case_id=case_id, role=REQUESTER, la_code=la_code, case_reference=reference, name=name, email=email)
        recipient.name, recipient.email = name, email
        session.add(recipient)
        wake_after_commit(session, SENDER)
        return
    # Anything queued for a parent before we knew the case has none (events on another topic came first) never goes.
    unsent = (await session.exec(select(Message).where(
        Message.case_id == case_id, Message.recipient_role == REQUESTER, Message.status == MessageStatus.pending,
        col(Message.sent_at).is_(None)))).all()
    for message in unsent:
        log.info("message.withdrawn_no_requester", case_id=case_id, message_id=message.id, template=message.template)
        await session.delete(message)


async def queue(session: AsyncSession, *, event_id: str, case_id: str, la_code: str, template: Template,
                role: str, context: dict[str, Any], domain: str,
                attachment: tuple[str, bytes] | None = None) -> Message | None:
    """Queue one message; the same event, template and role always give the same message (and Message-ID).

    Nothing is queued for a parent or young person on a case that has none (R21).
    """
    if not may_address(role, case_has_requester=await case_has_requester(session, case_id)):
        log.info("message.not_addressed", case_id=case_id, template=template.name, role=role)
        return None
    message_uuid = rendering.stable_message_uuid(event_id, template.name, role)
    existing = await session.get(Message, message_uuid)
    if existing is not None:
        return existing
    message = Message(
        id=message_uuid, message_id=f"<{message_uuid}@{domain}>", case_id=case_id, la_code=la_code,
        event_id=event_id, template=template.name, recipient_role=role, context=context,
        attachment_name=attachment[0] if attachment else None, attachment=attachment[1] if attachment else None,
    )
    session.add(message)
    wake_after_commit(session, SENDER)
    return message


async def recipient_for(session: AsyncSession, case_id: str, role: str) -> Recipient | None:
    return await session.get(Recipient, (case_id, role))


async def next_due(session: AsyncSession, now: datetime) -> Message | None:
    return (await session.exec(
        select(Message)
        .where(Message.status == MessageStatus.pending, col(Message.next_attempt_at) <= now)
        .order_by(col(Message.next_attempt_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    )).first()


def _email_for(message: Message, recipient: Recipient, settings: NotificationsSettings) -> Any:
    authority = load_directory().get(recipient.la_code)
    context = {
        **message.context,
        "recipient_name": recipient.name,
        "case_reference": recipient.case_reference,
        "la_name": authority.name if authority else message.la_code,
        "la_contact": authority.contact if authority else "",
    }
    subject, text, html = rendering.render_bodies(message.template, context)
    invitation = message.context.get("invitation")
    method: rendering.CalendarMethod = "CANCEL" if invitation and invitation.get("method") == "CANCEL" else "REQUEST"
    calendar = rendering.meeting_invitation(
        uid=invitation["uid"], sequence=invitation["sequence"], method=method,
        starts_at=datetime.fromisoformat(invitation["starts_at"]), ends_at=datetime.fromisoformat(invitation["ends_at"]),
        summary="SEND mediation meeting", location=invitation["location"],
        organiser=settings.from_address.rsplit("<", 1)[-1].rstrip(">"), attendee=recipient.email,
    ) if invitation else None
    attachment = (message.attachment_name or "attachment.pdf", message.attachment) if message.attachment else None
    return rendering.build_email(
        message_id=message.message_id, from_address=settings.from_address,
        reply_to=authority.reply_to if authority else settings.from_address, to_name=recipient.name,
        to_address=recipient.email, subject=subject, text=text, html=html, attachment=attachment, calendar=calendar,
        calendar_method=method,
    )


async def send_one(session: AsyncSession, message: Message, settings: NotificationsSettings) -> None:
    """Send over SMTP and record the outcome. Temporary failures wait and retry; 5xx fails at once."""
    now = datetime.now(UTC)
    with bound_contextvars(case_id=message.case_id, message_id=message.id, template=message.template):
        recipient = await recipient_for(session, message.case_id, message.recipient_role)
        if recipient is None:
            if now - message.created_at > timedelta(seconds=settings.recipient_wait_seconds):
                _fail(session, message, "no contact details for the recipient")
            else:
                message.next_attempt_at = now + timedelta(seconds=2)
                session.add(message)
            return
        email = _email_for(message, recipient, settings)
        message.attempts += 1
        try:
            await aiosmtplib.send(
                email, hostname=settings.smtp_host, port=settings.smtp_port, use_tls=settings.smtp_use_tls,
                start_tls=settings.smtp_starttls, username=settings.smtp_username, password=settings.smtp_password,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                _fail(session, message, f"SMTP {exc.code}")
            else:
                _retry(session, message, settings, f"SMTP {exc.code}")
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            _retry(session, message, settings, type(exc).__name__)
            return
        message.status, message.sent_at, message.last_error = MessageStatus.sent, datetime.now(UTC), None
        session.add(message)
        add_event(session, NotificationSentV1(message_id=message.id, case_id=message.case_id,
                                              template=message.template, recipient_role=message.recipient_role),
                  subject=message.case_id)
        log.info("email.sent", attempts=message.attempts)


def _retry(session: AsyncSession, message: Message, settings: NotificationsSettings, error: str) -> None:
    if message.attempts >= settings.max_attempts:
        _fail(session, message, f"gave up after {message.attempts} attempts: {error}")
        return
    delay = RETRY_DELAYS[min(message.attempts - 1, len(RETRY_DELAYS) - 1)]
    message.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
    message.last_error = error
    session.add(message)
    log.warning("email.retry", attempts=message.attempts, error=error, delay_seconds=delay)


def _fail(session: AsyncSession, message: Message, reason: str) -> None:
    message.status, message.last_error = MessageStatus.failed, reason[:500]
    session.add(message)
    add_event(session, NotificationFailedV1(message_id=message.id, case_id=message.case_id,
                                            template=message.template, recipient_role=message.recipient_role,
                                            reason=reason[:200]), subject=message.case_id)
    deadline_bound = TEMPLATES[message.template].deadline_bound
    if deadline_bound:
        _raise_deadline_alert(session, message, reason)
    getattr(log, "error" if deadline_bound else "warning")("email.failed", reason=reason, deadline_bound=deadline_bound)


def _raise_deadline_alert(session: AsyncSession, message: Message, reason: str) -> None:
    """A family may miss a statutory deadline: ops must reach them another way (issue 6)."""
    alert_id = str(uuid.uuid4())  # each failure is its own alert, a resent message that fails again too
    add_event(session, NotificationAlertRaisedV1(
        alert_id=alert_id, kind="deadline_message_failed", message_id=message.id, case_id=message.case_id,
        template=message.template, recipient_role=message.recipient_role, reason=reason[:200]),
        subject=message.case_id)
    DEADLINE_ALERTS.labels(message.template).inc()


async def list_messages(session: AsyncSession, *, case_id: str | None, status: MessageStatus | None,
                        limit: int, template: str | None = None, recipient_role: str | None = None,
                        deadline_bound: bool | None = None) -> list[Message]:
    query = select(Message).order_by(col(Message.created_at).desc()).limit(limit)
    if case_id is not None:
        query = query.where(Message.case_id == case_id)
    if status is not None:
        query = query.where(Message.status == status)
    if template is not None:
        query = query.where(Message.template == template)
    if recipient_role is not None:
        query = query.where(Message.recipient_role == recipient_role)
    if deadline_bound is not None:
        names = [name for name, spec in TEMPLATES.items() if spec.deadline_bound == deadline_bound]
        query = query.where(col(Message.template).in_(names))
    return list((await session.exec(query)).all())


async def resend(session: AsyncSession, message_uuid: str) -> Message:
    """Ops: send a failed or sent message again, under the same Message-ID."""
    message = await session.get(Message, message_uuid)
    if message is None:
        raise MessageNotFound(f"no message {message_uuid}")
    message.status, message.attempts, message.next_attempt_at = MessageStatus.pending, 0, datetime.now(UTC)
    session.add(message)
    wake_after_commit(session, SENDER)
    return message


def pdf_attachment(filename: str, pdf_base64: str) -> tuple[str, bytes]:
    return filename, base64.b64decode(pdf_base64)
