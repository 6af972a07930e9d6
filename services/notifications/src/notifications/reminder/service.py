"""Reminders: planned by handlers, fired by the reminder worker. Flush, never commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.message import service as message_service
from notifications.message.catalogue import OPS, TEMPLATES, Template
from notifications.metrics import OPS_ALERTS
from notifications.reminder.models import Reminder, ReminderCancellation, ReminderStatus
from notifications.settings import NotificationsSettings
from shared import clock, poison
from shared.db import after_commit
from shared.logging import bound_contextvars, get_logger

log = get_logger(__name__)

SCHEDULER = "reminder_scheduler"
MEETING = "meeting"  # about_id: the meeting id
CERTIFICATE_DUE = "certificate_due"  # about_id: the case id
DEADLINE_AT_RISK = "deadline_at_risk"  # about_id: the case id


def reminder_uuid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"send-mediation:reminder:{key}"))


async def plan(session: AsyncSession, *, key: str, case_id: str, la_code: str, kind: str, about_id: str,
               template: Template, role: str, context: dict[str, Any], due_at: datetime,
               expires_at: datetime | None = None, now: datetime | None = None, ref: str | None = None) -> Reminder | None:
    """Store a reminder; the same key always gives the same reminder. One already overdue is not planned."""
    now = now or clock.now()
    if due_at <= now:
        log.info("reminder.not_planned_overdue", case_id=case_id, kind=kind)
        return None
    reminder_id = reminder_uuid(key)
    existing = await session.get(Reminder, reminder_id)
    if existing is not None:
        return existing
    if await cancelled_by(session, case_id=case_id, kind=kind, about_id=about_id) is not None:
        log.info("reminder.not_planned_already_cancelled", case_id=case_id, kind=kind)
        return None
    reminder = Reminder(id=reminder_id, case_id=case_id, la_code=la_code, kind=kind, about_id=about_id,
                        template=template.name, recipient_role=role, recipient_ref=ref, context=context,
                        due_at=due_at, expires_at=expires_at)
    session.add(reminder)
    return reminder


async def cancel(session: AsyncSession, *, case_id: str, kind: str | None, about_id: str | None = None,
                 reason: str) -> list[Reminder]:
    """The thing reminded about happened or was called off: its reminders will not fire, even those not planned
    yet (the cancellation is kept, so a planning event handled later plans nothing).

    ``kind=None``: every reminder of the case (it was withdrawn). ``reason``: the cancelling event's type.
    """
    tombstone_id = reminder_uuid(f"cancelled:{case_id}:{kind or '*'}:{about_id or '*'}")
    if await session.get(ReminderCancellation, tombstone_id) is None:
        session.add(ReminderCancellation(id=tombstone_id, case_id=case_id, kind=kind, about_id=about_id,
                                         reason=reason))
    return await _cancel_pending(session, case_id=case_id, kind=kind, about_id=about_id)


async def supersede(session: AsyncSession, *, case_id: str, kind: str, about_id: str) -> list[Reminder]:
    """The thing reminded about moved: its pending reminders give way to the one planned next (no tombstone)."""
    return await _cancel_pending(session, case_id=case_id, kind=kind, about_id=about_id)


async def _cancel_pending(session: AsyncSession, *, case_id: str, kind: str | None,
                          about_id: str | None) -> list[Reminder]:
    query = select(Reminder).where(Reminder.status == ReminderStatus.pending, Reminder.case_id == case_id)
    if kind is not None:
        query = query.where(Reminder.kind == kind)
    if about_id is not None:
        query = query.where(Reminder.about_id == about_id)
    pending = list((await session.exec(query)).all())
    for reminder in pending:
        reminder.status = ReminderStatus.cancelled
        session.add(reminder)
    return pending


async def cancelled_by(session: AsyncSession, *, case_id: str, kind: str, about_id: str
                       ) -> ReminderCancellation | None:
    """The known cancellation that covers a reminder of ``kind`` about ``about_id`` in this case, if any."""
    await session.flush()  # a cancellation added earlier in this transaction counts
    return (await session.exec(
        select(ReminderCancellation).where(
            ReminderCancellation.case_id == case_id,
            or_(col(ReminderCancellation.kind).is_(None), ReminderCancellation.kind == kind),
            or_(col(ReminderCancellation.about_id).is_(None), ReminderCancellation.about_id == about_id),
        ).limit(1)
    )).first()


async def for_subject(session: AsyncSession, *, kind: str, about_id: str) -> list[Reminder]:
    return list((await session.exec(
        select(Reminder).where(Reminder.kind == kind, Reminder.about_id == about_id)
        .order_by(col(Reminder.created_at))
    )).all())


async def next_due(session: AsyncSession, now: datetime) -> Reminder | None:
    return (await session.exec(
        select(Reminder)
        .where(Reminder.status == ReminderStatus.pending, col(Reminder.due_at) <= now,
               poison.available(SCHEDULER, Reminder.id, now))
        .order_by(col(Reminder.due_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    )).first()


async def fire(session: AsyncSession, reminder: Reminder, settings: NotificationsSettings, now: datetime) -> None:
    """Queue the reminder's message (same reminder, same message and Message-ID), unless it came due too late."""
    with bound_contextvars(case_id=reminder.case_id, reminder_id=reminder.id, template=reminder.template):
        reminder.fired_at = now
        cancellation = await cancelled_by(session, case_id=reminder.case_id, kind=reminder.kind,
                                          about_id=reminder.about_id)
        if cancellation is not None:  # planned before what cancels it was known: it never fires
            reminder.status = ReminderStatus.cancelled
            session.add(reminder)
            log.info("reminder.cancelled_at_firing", reason=cancellation.reason)
            return
        if reminder.expires_at is not None and now >= reminder.expires_at:
            reminder.status = ReminderStatus.expired
            session.add(reminder)
            log.warning("reminder.expired", due_at=reminder.due_at.isoformat())
            return
        message = await message_service.queue(
            session, event_id=f"reminder:{reminder.id}", case_id=reminder.case_id, la_code=reminder.la_code,
            template=TEMPLATES[reminder.template], role=reminder.recipient_role, context=reminder.context,
            domain=settings.message_id_domain, ref=reminder.recipient_ref,
        )
        if message is None:  # nobody to remind (R21)
            reminder.status = ReminderStatus.cancelled
            session.add(reminder)
            return
        reminder.status, reminder.message_uuid = ReminderStatus.sent, message.id
        session.add(reminder)
        if reminder.kind == DEADLINE_AT_RISK and reminder.recipient_role == OPS:
            after_commit(session, OPS_ALERTS.labels("deadline_at_risk").inc)
        log.info("reminder.fired")
