"""Messages: queued by handlers, sent by the sender worker. Flush, never commit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message as Email
from functools import cache
from typing import Any

import aiosmtplib
from sqlalchemy import BindParameter, bindparam, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from notifications.meeting.models import MeetingInvitation
from notifications.message import rendering
from notifications.message.catalogue import (
    ADVISER,
    HEALTH_BODY,
    LA_OFFICER,
    MEDIATOR,
    OPS,
    PROVIDER,
    REQUESTER,
    TEMPLATES,
    Template,
    may_address,
)
from notifications.message.models import AttemptOutcome, CaseAudience, Message, MessageAttempt, MessageStatus, Recipient
from notifications.metrics import DEADLINE_ALERTS
from notifications.settings import NotificationsSettings
from shared import clock, poison
from shared.db import after_commit, wake_after_commit
from shared.deadletters import DeadLetterReason
from shared.directory import load_directory
from shared.errors import NotFound
from shared.events import NotificationFailedV1, NotificationSentV1
from shared.events.cases import CaseFacts
from shared.events.notifications import NotificationAlertRaisedV1
from shared.logging import bound_contextvars, get_logger
from shared.outbox import add_event
from shared.poison import ItemFailure

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
    audience = await session.get(CaseAudience, case_id) or CaseAudience(
        case_id=case_id, has_requester=family is not None, dr_type=dr_type)
    audience.la_code, audience.reference = la_code, reference
    session.add(audience)
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


async def remember_case(session: AsyncSession, *, case_id: str, la_code: str, reference: str,
                        health_issues: bool = False) -> CaseAudience:
    """The case's LA and reference, for the messages to the LA, the mediator and the health bodies."""
    case = await session.get(CaseAudience, case_id) or CaseAudience(case_id=case_id, has_requester=True)
    case.la_code, case.reference = la_code, reference
    case.health_issues = case.health_issues or health_issues
    session.add(case)
    wake_after_commit(session, SENDER)  # staff messages may be waiting for the case's LA
    return case


async def case_facts(session: AsyncSession, case_id: str) -> CaseAudience | None:
    return await session.get(CaseAudience, case_id)


async def queue(session: AsyncSession, *, event_id: str, case_id: str, la_code: str, template: Template,
                role: str, context: dict[str, Any], domain: str, ref: str | None = None,
                attachment: tuple[str, bytes] | None = None) -> Message | None:
    """Queue one message; the same event, template and recipient always give the same message (and Message-ID).

    Nothing is queued for a parent or young person on a case that has none (R21).
    """
    if not may_address(role, case_has_requester=await case_has_requester(session, case_id)):
        log.info("message.not_addressed", case_id=case_id, template=template.name, role=role)
        return None
    message_uuid = rendering.stable_message_uuid(event_id, template.name, f"{role}:{ref}" if ref else role)
    existing = await session.get(Message, message_uuid)
    if existing is not None:
        return existing
    message = Message(
        id=message_uuid, message_id=f"<{message_uuid}@{domain}>", case_id=case_id, la_code=la_code,
        event_id=event_id, template=template.name, recipient_role=role, recipient_ref=ref, context=context,
        attachment_name=attachment[0] if attachment else None, attachment=attachment[1] if attachment else None,
    )
    session.add(message)
    wake_after_commit(session, SENDER)
    return message


async def recipient_for(session: AsyncSession, case_id: str, role: str) -> Recipient | None:
    return await session.get(Recipient, (case_id, role))


@dataclass(frozen=True)
class Due:
    """A message claimed for sending, with what its send needs to know of its history (read in the same query)."""

    message: Message
    #: Attempts already in its delivery log; the next one is numbered after them.
    attempts_logged: int
    #: One of them is still ``in_flight``: its outcome was never recorded (a crash, a lost commit).
    unfinished: bool
    #: It has a ``work_item_failures`` row, which a success clears.
    failed_before: bool


@cache
def _next_due_query(passing_over: bool) -> Select[Message, int, bool, bool]:
    """The claim of ``next_due``, built once (building it took a tenth of the sender's CPU): ``now`` and
    ``busy_cases`` are bound at each call."""
    now: BindParameter[datetime] = bindparam("now")
    logged = select(func.count()).where(col(MessageAttempt.message_uuid) == col(Message.id)).scalar_subquery()
    # A count, not EXISTS: PostgreSQL planned an EXISTS here as a hash of every in-flight attempt, built by
    # reading the whole delivery log at every claim; a count is looked up for the claimed message alone.
    unfinished = select(func.count()).where(col(MessageAttempt.message_uuid) == col(Message.id),
                                            col(MessageAttempt.outcome) == AttemptOutcome.in_flight
                                            ).scalar_subquery() > 0
    failed = exists().where(col(ItemFailure.worker) == SENDER, col(ItemFailure.item_key) == Message.id)
    query = (
        select(Message, logged, unfinished, failed)
        .where(Message.status == MessageStatus.pending, col(Message.next_attempt_at) <= now,
               poison.available(SENDER, Message.id, now))
    )
    if passing_over:
        query = query.where(col(Message.case_id).not_in(bindparam("busy_cases", expanding=True)))
    return query.order_by(col(Message.next_attempt_at)).limit(1).with_for_update(skip_locked=True, of=Message)


async def next_due(session: AsyncSession, now: datetime, *, busy_cases: Collection[str] = ()) -> Due | None:
    """The oldest due message, locked (``SKIP LOCKED``: another replica's claim is passed over).

    ``busy_cases`` have a message in flight in this process: their next one waits for it, so that one case's
    emails leave in the order they fell due (a booking before its move, a certificate before its correction).
    """
    params: dict[str, Any] = {"now": now}
    if busy_cases:
        params["busy_cases"] = list(busy_cases)
    row = (await session.exec(_next_due_query(bool(busy_cases)), params=params)).first()
    if row is None:
        return None
    message, attempts_logged, has_unfinished, failed_before = row
    return Due(message, int(attempts_logged), bool(has_unfinished), bool(failed_before))


@dataclass(frozen=True)
class Addressee:
    name: str
    email: str
    la_code: str
    case_reference: str


class NoAddress(Exception):
    """The directory or settings have no address for this recipient: the message cannot be sent."""


async def addressee_for(session: AsyncSession, message: Message, settings: NotificationsSettings) -> Addressee | None:
    """Who the message goes to, looked up now; None while the case's details have not arrived yet."""
    role = message.recipient_role
    if role == REQUESTER:
        recipient = await recipient_for(session, message.case_id, REQUESTER)
        return Addressee(recipient.name, recipient.email, recipient.la_code, recipient.case_reference) if recipient else None
    case = await session.get(CaseAudience, message.case_id)
    la_code = message.la_code or (case.la_code if case else None)
    reference = case.reference if case else None
    if not la_code or not reference:
        return None
    authority = load_directory().get(la_code)
    if authority is None:
        raise NoAddress(f"local authority {la_code} is not in the directory")
    name: str | None
    email: str | None
    if role == LA_OFFICER:
        name, email = f"{authority.name} SEND team", authority.officer_email
    elif role == HEALTH_BODY:
        body = next((b for b in authority.health_commissioning_bodies if b.id == message.recipient_ref), None)
        name, email = (body.name, body.email) if body else (None, None)
    elif role == MEDIATOR:
        meeting = await session.get(MeetingInvitation, message.recipient_ref or "")
        name, email = (meeting.mediator_name or "Mediator", meeting.mediator_email) if meeting else (None, None)
    elif role == ADVISER:
        name, email = authority.mediation_adviser.name, authority.mediation_adviser.email
    elif role == PROVIDER:
        name, email = authority.mediation_provider.name, authority.mediation_provider.email
    elif role == OPS:
        name, email = "SEND mediation operations", settings.ops_email
    else:
        raise NoAddress(f"unknown recipient role {role}")
    if not email or not name:
        raise NoAddress(f"no email address for the {role}")
    return Addressee(name, email, la_code, reference)


def _email_for(message: Message, addressee: Addressee, settings: NotificationsSettings) -> Email:
    authority = load_directory().get(addressee.la_code)
    context = {
        **message.context,
        "recipient_name": addressee.name,
        "case_reference": addressee.case_reference,
        "la_name": authority.name if authority else addressee.la_code,
        "la_contact": authority.contact if authority else "",
    }
    subject, text, html = rendering.render_bodies(message.template, context)
    invitation = message.context.get("invitation")
    method: rendering.CalendarMethod = "CANCEL" if invitation and invitation.get("method") == "CANCEL" else "REQUEST"
    calendar = rendering.meeting_invitation(
        uid=invitation["uid"], sequence=invitation["sequence"], method=method,
        starts_at=datetime.fromisoformat(invitation["starts_at"]), ends_at=datetime.fromisoformat(invitation["ends_at"]),
        summary=invitation.get("summary", "SEND mediation meeting"), location=invitation["location"],
        organiser=settings.from_address.rsplit("<", 1)[-1].rstrip(">"), attendee=addressee.email,
    ) if invitation else None
    attachment = (message.attachment_name or "attachment.pdf", message.attachment) if message.attachment else None
    return rendering.build_email(
        message_id=message.message_id, from_address=settings.from_address,
        reply_to=authority.reply_to if authority else settings.from_address, to_name=addressee.name,
        to_address=addressee.email, subject=subject, text=text, html=html, attachment=attachment, calendar=calendar,
        calendar_method=method,
    )


_ADDRESS = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")


def short_reply(text: str) -> str:
    """An SMTP reply fit for the delivery log: one line, at most 200 characters, no email address."""
    return " ".join(_ADDRESS.sub("<address>", text).split())[:200]


_this_host: list[str] = []  # the host's fully qualified name, once looked up


async def _ehlo_name(settings: NotificationsSettings) -> str:
    """The name given in EHLO: the setting, or the host's name, looked up once on a thread (it may ask DNS)."""
    if settings.smtp_local_hostname:
        return settings.smtp_local_hostname
    if not _this_host:
        _this_host.append(await asyncio.to_thread(socket.getfqdn))
    return _this_host[0]


class SmtpConnections:
    """Connections that have just delivered an email, kept for the next one for ``smtp_keepalive_seconds``.

    The sender's slots each take one (or open a new one) for a delivery and keep it only after a success:
    a connection that failed, timed out or was cut off by a shutdown is dropped. At most one per slot is kept,
    so the server never sees more connections than ``smtp_concurrency``. A connection the server closed while
    idle is noticed on taking it (aiosmtplib sees the close) and dropped.
    """

    def __init__(self, settings: NotificationsSettings) -> None:
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # with the loop time it was given back

    def take(self) -> aiosmtplib.SMTP | None:
        """A connection still open and fresh, the most recently used first; None when there is none."""
        self.close_expired()
        while self._idle:
            client, _ = self._idle.pop()
            if client.is_connected:
                return client
            client.close()
        return None

    def keep(self, client: aiosmtplib.SMTP) -> bool:
        """Keep the connection for the next email; False when it is not to be kept (the caller ends it)."""
        if self._settings.smtp_keepalive_seconds <= 0 or not client.is_connected:
            return False
        self._idle.append((client, asyncio.get_running_loop().time()))
        return True

    def close_expired(self) -> None:
        """Close the connections idle longer than ``smtp_keepalive_seconds`` (the server is not kept waiting)."""
        oldest = asyncio.get_running_loop().time() - self._settings.smtp_keepalive_seconds
        expired = [client for client, since in self._idle if since <= oldest]
        self._idle = [(client, since) for client, since in self._idle if since > oldest]
        for client in expired:
            client.close()

    def close(self) -> None:
        for client, _ in self._idle:
            client.close()
        self._idle = []


async def _smtp_connection(settings: NotificationsSettings) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, use_tls=settings.smtp_use_tls,
        start_tls=settings.smtp_starttls, username=settings.smtp_username, password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds, local_hostname=await _ehlo_name(settings),
    )
    try:
        await client.connect()
    except BaseException:
        client.close()
        raise
    return client


async def _smtp_deliver(email: Email, settings: NotificationsSettings,
                        connections: SmtpConnections | None = None) -> tuple[int, str]:
    """One delivery, bounded as a whole; on any failure or cancellation the connection is dropped, not QUIT.

    ``aiosmtplib.send`` answers a cancellation by sending QUIT and waiting for the reply, which a server busy
    with our DATA never gives: a shutdown then hung for the whole command timeout.

    With ``connections``, a kept connection is used when there is one, and the connection is kept after a
    success. A kept connection the server dropped meanwhile (it answers the next command by closing, or with
    421) is replaced by a new one at once, within the same bound: the same as a temporary failure tried again
    under the same Message-ID, only without waiting for the retry.
    """
    client = connections.take() if connections else None
    try:
        async with asyncio.timeout(settings.smtp_send_timeout_seconds):
            if client is not None:
                try:
                    _, response = await client.send_message(email)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError, aiosmtplib.SMTPResponseException) as exc:
                    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code != 421:
                        raise  # a reply about this email, not about the connection
                    client.close()  # closed, or closing (421: an idle timeout the server had announced)
                    client = None
            if client is None:
                client = await _smtp_connection(settings)
                _, response = await client.send_message(email)
    except BaseException:
        if client is not None:
            client.close()
        raise
    if connections is None or not connections.keep(client):
        with contextlib.suppress(Exception):
            async with asyncio.timeout(min(5.0, settings.smtp_timeout_seconds)):
                await client.quit()
        client.close()
    return 250, str(response)  # aiosmtplib raises on any reply to DATA but 250; it returns the reply text


async def _begin_attempt(session: AsyncSession, due: Due, settings: NotificationsSettings) -> MessageAttempt:
    """Put the attempt on record, and commit it, before the email leaves: a delivery whose outcome is then lost
    (a crash, a lost commit) still shows in the delivery log, as ``unknown`` once the message is tried again.

    The message is leased meanwhile (``next_attempt_at`` past the whole send), so no other replica takes it.
    What the log already holds came with the claim (``next_due``).
    """
    message, logged = due.message, due.attempts_logged
    if due.unfinished:
        in_flight = (await session.exec(select(MessageAttempt).where(
            MessageAttempt.message_uuid == message.id, MessageAttempt.outcome == AttemptOutcome.in_flight))).all()
        for earlier_attempt in in_flight:
            earlier_attempt.outcome = AttemptOutcome.unknown
            earlier_attempt.reply = "outcome not recorded; may have been delivered"
            session.add(earlier_attempt)
    attempt = MessageAttempt(message_uuid=message.id, attempt=logged + 1, outcome=AttemptOutcome.in_flight)
    message.attempts += 1
    message.next_attempt_at = clock.now() + timedelta(
        seconds=settings.smtp_send_timeout_seconds + settings.smtp_shutdown_grace_seconds + 30)
    session.add_all([attempt, message])
    await session.commit()  # the sender worker's own transaction: the attempt is durable before SMTP starts
    return attempt


def _finish_attempt(session: AsyncSession, attempt: MessageAttempt, outcome: AttemptOutcome, *,
                    code: int | None, reply: str | None) -> None:
    attempt.outcome, attempt.at, attempt.smtp_code = outcome, clock.now(), code
    attempt.reply = short_reply(reply) if reply else None
    session.add(attempt)


async def send_one(session: AsyncSession, due: Due, settings: NotificationsSettings,
                   connections: SmtpConnections | None = None) -> bool:
    """Send the claimed message over SMTP and record the outcome. Temporary failures wait and retry; 5xx fails
    at once.

    The send is shielded from a shutdown: it gets ``smtp_shutdown_grace_seconds`` to finish, so its outcome
    is recorded, and is then cut off (recorded as a temporary failure, sent again after the restart under the
    same Message-ID). Returns True when a shutdown interrupted it: the caller commits, then stops.
    """
    now, message = clock.now(), due.message
    with bound_contextvars(case_id=message.case_id, message_id=message.id, template=message.template):
        try:
            addressee = await addressee_for(session, message, settings)
        except NoAddress as exc:
            _fail(session, message, str(exc))
            return False
        if addressee is None:
            if now - message.created_at > timedelta(seconds=settings.recipient_wait_seconds):
                _fail(session, message, "no contact details for the recipient")
            else:
                message.next_attempt_at = now + timedelta(seconds=2)
                session.add(message)
            return False
        try:
            email = _email_for(message, addressee, settings)
        except Exception as exc:  # a template that raises, a header value refused (a line break in a name)
            raise poison.ItemError(DeadLetterReason.unrenderable, "the email cannot be rendered") from exc
        attempt = await _begin_attempt(session, due, settings)
        delivery = asyncio.create_task(_smtp_deliver(email, settings, connections), name=f"smtp:{message.id}")
        interrupted = False
        try:
            await asyncio.wait({delivery})  # a cancellation of this task leaves the delivery running (a shield)
        except asyncio.CancelledError:
            interrupted = True
            await asyncio.wait({delivery}, timeout=settings.smtp_shutdown_grace_seconds)
            if not delivery.done():
                delivery.cancel()
                await asyncio.wait({delivery})
                _finish_attempt(session, attempt, AttemptOutcome.temporary_failure, code=None,
                                reply="interrupted by shutdown")
                message.next_attempt_at = clock.now()
                message.last_error = "interrupted by shutdown"
                session.add(message)
                log.warning("email.interrupted_by_shutdown", attempts=message.attempts)
                return True
        await _record_outcome(session, message, attempt, delivery, settings)
        return interrupted


async def _record_outcome(session: AsyncSession, message: Message, attempt: MessageAttempt,
                          delivery: asyncio.Task[tuple[int, str]], settings: NotificationsSettings) -> None:
    exc = delivery.exception()
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600
        _finish_attempt(session, attempt, AttemptOutcome.permanent_failure if permanent
                        else AttemptOutcome.temporary_failure, code=exc.code, reply=exc.message)
        if permanent:
            _fail(session, message, f"SMTP {exc.code}")
        else:
            _retry(session, message, settings, f"SMTP {exc.code}")
        return
    if exc is not None:
        if not isinstance(exc, (aiosmtplib.SMTPException, OSError, TimeoutError)):
            raise exc
        _finish_attempt(session, attempt, AttemptOutcome.temporary_failure, code=None, reply=type(exc).__name__)
        _retry(session, message, settings, type(exc).__name__)
        return
    code, reply = delivery.result()
    _finish_attempt(session, attempt, AttemptOutcome.delivered, code=code, reply=reply)
    message.status, message.sent_at, message.last_error = MessageStatus.sent, clock.now(), None
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
    message.next_attempt_at = clock.now() + timedelta(seconds=delay)
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
    after_commit(session, DEADLINE_ALERTS.labels(message.template).inc)


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


async def get_message(session: AsyncSession, message_uuid: str) -> Message:
    message = await session.get(Message, message_uuid)
    if message is None:
        raise MessageNotFound(f"no message {message_uuid}")
    return message


async def attempts_of(session: AsyncSession, message_uuid: str) -> list[MessageAttempt]:
    return list((await session.exec(
        select(MessageAttempt).where(MessageAttempt.message_uuid == message_uuid).order_by(col(MessageAttempt.attempt))
    )).all())


async def resend(session: AsyncSession, message_uuid: str) -> Message:
    """Ops: send a failed or sent message again, under the same Message-ID."""
    message = await session.get(Message, message_uuid)
    if message is None:
        raise MessageNotFound(f"no message {message_uuid}")
    message.status, message.attempts, message.next_attempt_at = MessageStatus.pending, 0, clock.now()
    session.add(message)
    await poison.forget(session, SENDER, message.id)  # a parked message is taken again too
    wake_after_commit(session, SENDER)
    return message


def pdf_attachment(filename: str, pdf_base64: str) -> tuple[str, bytes]:
    return filename, base64.b64decode(pdf_base64)


async def _requeue(session: AsyncSession, message_uuid: str) -> None:
    """A re-driven parked message: sent again now, with its attempts counted afresh."""
    message = await session.get(Message, message_uuid)
    if message is not None and message.status == MessageStatus.pending:
        message.attempts, message.next_attempt_at = 0, clock.now()
        session.add(message)


poison.on_requeue(SENDER, _requeue)
