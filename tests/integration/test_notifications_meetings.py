"""Calendar invitations through a meeting's life, and durable reminders, over real PostgreSQL, Kafka and SMTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from sqlmodel import select
from support import eventually, handle, serve

from notifications.main import create_app
from notifications.meeting.models import InvitationStatus, MeetingInvitation
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus
from notifications.reminder import service as reminder_service
from notifications.reminder.models import Reminder, ReminderCancellation, ReminderStatus
from notifications.reminder.rules import meeting_reminder_due
from notifications.settings import NotificationsSettings
from shared import clock
from shared.calendar import DEFAULT_CALENDAR
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateIssuedV1,
    Envelope,
    EventData,
    MeetingConcludedV1,
    MeetingScheduledV1,
    Party,
)
from shared.events.meetings import MeetingCancelledV1, MeetingRescheduledV1
from shared.localinfra.smtp import SmtpServer

LONDON = ZoneInfo("Europe/London")
CASE_ID = "case-0001"
MEETING_ID = "meeting-1"
UID = "meeting-1@send-mediation.example"
PARENT = "alex@example.org"


def settings_for(database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer,
                 **overrides: object) -> NotificationsSettings:
    return NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                 kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                 **overrides)


@pytest.fixture
def settings(database_url, kafka_bootstrap, namespace, smtp_server) -> NotificationsSettings:
    return settings_for(database_url, kafka_bootstrap, namespace, smtp_server, reminder_poll_interval_seconds=0.5)


@pytest.fixture
async def notifications(settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with serve(app) as client:
        yield client


async def deliver(client: httpx.AsyncClient, data: EventData, handler: Any, case_id: str = CASE_ID) -> Envelope:
    return await handle(client, data, handler, subject=case_id)


def submitted() -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20),
        requester=Party(role="parent", name="Alex Example", email="alex@example.org"))


def meeting_day(working_days_ahead: int) -> datetime:
    """10:00 London time on a working day safely after today, so its reminder lies in the future."""
    day = DEFAULT_CALENDAR.add_working_days(clock.today(), working_days_ahead)
    return datetime.combine(day, time(10, 0), tzinfo=LONDON)


def scheduled(starts: datetime) -> MeetingScheduledV1:
    return MeetingScheduledV1(
        meeting_id=MEETING_ID, case_id=CASE_ID, mediator_id="med-0001", mediator_name="Jordan Avery",
        provider_name="KIDS", starts_at=starts, ends_at=starts + timedelta(hours=2), location="Video call",
        arranging_body="local_authority")


def rescheduled(starts: datetime, sequence: int = 1) -> MeetingRescheduledV1:
    return MeetingRescheduledV1(meeting_id=MEETING_ID, case_id=CASE_ID, starts_at=starts,
                                ends_at=starts + timedelta(hours=2), location="Room 4, Civic Centre",
                                sequence=sequence, reason="mediator_unavailable")


def cancelled(sequence: int) -> MeetingCancelledV1:
    return MeetingCancelledV1(meeting_id=MEETING_ID, case_id=CASE_ID, sequence=sequence, reason="requested_by_parent")


async def rows(client: httpx.AsyncClient, model: type) -> list:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(model))).all())


async def meeting_reminders(client: httpx.AsyncClient) -> list[Reminder]:
    return [r for r in await rows(client, Reminder) if r.kind == "meeting"]


async def family_messages(client: httpx.AsyncClient) -> list[Message]:
    """The parent's messages (the LA officer, the mediator and others: test_notifications_recipients.py)."""
    return [m for m in await rows(client, Message) if m.recipient_role == "requester"]


async def all_sent(client: httpx.AsyncClient, count: int) -> list[Message] | None:
    found = await family_messages(client)
    return found if len(found) == count and all(m.status is MessageStatus.sent for m in found) else None


def calendar_of(email: EmailMessage) -> tuple[icalendar.Calendar, icalendar.Event, str]:
    [part] = [p for p in email.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    return calendar, event, part.get_param("method")


def email_with_subject(smtp_server: SmtpServer, subject: str) -> EmailMessage:
    [email] = [e for e in smtp_server.handler.messages() if e["Subject"] == subject and e["X-Envelope-To"] == PARENT]
    return email


async def test_a_rescheduled_meeting_updates_the_invitation_under_the_same_uid_with_the_next_sequence(
        notifications, smtp_server):
    first, moved = meeting_day(10), meeting_day(12)
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(first), handlers.invite_to_meeting)
    await deliver(notifications, rescheduled(moved), handlers.update_meeting_invitation)

    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")

    original, before, _ = calendar_of(email_with_subject(smtp_server, "Your mediation meeting is booked"))
    update_email = email_with_subject(smtp_server, "Your mediation meeting has moved")
    update, after, part_method = calendar_of(update_email)
    assert (str(original["METHOD"]), str(update["METHOD"]), part_method) == ("REQUEST", "REQUEST", "REQUEST")
    assert str(before["UID"]) == str(after["UID"]) == UID
    assert (int(before["SEQUENCE"]), int(after["SEQUENCE"])) == (0, 1)
    assert after.decoded("DTSTART") == moved
    assert str(after["LOCATION"]) == "Room 4, Civic Centre"
    body = update_email.get_body(("plain",)).get_content()
    assert moved.strftime("%A %-d %B %Y, 10:00") in body
    assert "Mediator: Jordan Avery, KIDS" in body


async def test_a_cancelled_meeting_withdraws_the_invitation_under_the_same_uid(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)

    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")

    calendar, event, part_method = calendar_of(email_with_subject(smtp_server, "Your mediation meeting is cancelled"))
    assert (str(calendar["METHOD"]), part_method) == ("CANCEL", "CANCEL")
    assert str(event["UID"]) == UID
    assert int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CANCELLED"
    [meeting] = await rows(notifications, MeetingInvitation)
    assert meeting.status is InvitationStatus.cancelled


async def test_each_change_raises_the_sequence_even_when_scheduling_does_not(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    await deliver(notifications, rescheduled(meeting_day(11), sequence=1), handlers.update_meeting_invitation)
    await deliver(notifications, rescheduled(meeting_day(12), sequence=1), handlers.update_meeting_invitation)
    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)

    await eventually(lambda: all_sent(notifications, 5), what="five emails sent")

    invitations = [e for e in smtp_server.handler.messages()
                   if e["X-Envelope-To"] == PARENT and e["Subject"] != "We have received your request for mediation"]
    sequences = sorted(int(calendar_of(e)[1]["SEQUENCE"]) for e in invitations)
    assert sequences == [0, 1, 2, 3]
    assert {str(calendar_of(e)[1]["UID"]) for e in invitations} == {UID}


async def test_a_cancellation_that_arrives_twice_sends_one_cancellation(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)
    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)  # a new event id

    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")

    assert [e["Subject"] for e in smtp_server.handler.messages()].count("Your mediation meeting is cancelled") == 1


# Reminders.


async def test_a_booking_plans_a_reminder_two_working_days_before_at_nine(notifications):
    starts = meeting_day(10)
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, scheduled(starts), handlers.invite_to_meeting)
    await eventually(lambda: all_sent(notifications, 2), what="acknowledgement and invitation sent")

    [reminder] = await meeting_reminders(notifications)
    expected_day = starts.date()
    for _ in range(2):
        expected_day = DEFAULT_CALENDAR.latest_working_day_on_or_before(expected_day - timedelta(days=1))
    assert reminder.status is ReminderStatus.pending
    assert reminder.due_at == datetime.combine(expected_day, time(9, 0), tzinfo=LONDON)
    assert reminder.expires_at == starts


async def test_a_reschedule_cancels_the_reminder_and_plans_one_for_the_new_time(notifications):
    first, moved = meeting_day(10), meeting_day(15)
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(first), handlers.invite_to_meeting)

    await deliver(notifications, rescheduled(moved), handlers.update_meeting_invitation)
    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")

    reminders = sorted(await meeting_reminders(notifications), key=lambda r: r.due_at)
    assert [(r.status, r.expires_at) for r in reminders] == [(ReminderStatus.cancelled, first),
                                                              (ReminderStatus.pending, moved)]
    assert reminders[1].due_at == meeting_reminder_due(moved, working_days=2, at=time(9, 0))
    assert reminders[1].context["starts_at"] == moved.strftime("%A %-d %B %Y, %H:%M")


async def test_a_cancellation_cancels_the_meetings_reminder(notifications):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)

    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)
    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")

    [reminder] = await meeting_reminders(notifications)
    assert reminder.status is ReminderStatus.cancelled


async def _make_due(client: httpx.AsyncClient, *, expired: bool = False) -> None:
    """Time passes while the service is down: the reminder's due time (and maybe the meeting) is now past."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for reminder in (await session.exec(select(Reminder).where(Reminder.kind == "meeting"))).all():
            reminder.due_at = clock.now() - timedelta(minutes=5)
            if expired:
                reminder.expires_at = clock.now() - timedelta(minutes=1)
            session.add(reminder)
        await session.commit()


async def test_a_reminder_scheduled_before_a_restart_fires_after_it(database_url, kafka_bootstrap, namespace,
                                                                    smtp_server):
    # A long poll interval: only the new process's first look at the table can fire the reminder.
    settings = settings_for(database_url, kafka_bootstrap, namespace, smtp_server, reminder_poll_interval_seconds=3600)
    starts = meeting_day(10)
    before = create_app(settings)
    async with serve(before) as client:
        client.app = before  # type: ignore[attr-defined]
        await deliver(client, submitted(), handlers.acknowledge_request)
        await deliver(client, scheduled(starts), handlers.invite_to_meeting)
        await eventually(lambda: all_sent(client, 2), what="acknowledgement and invitation sent")
        [reminder] = await meeting_reminders(client)
        assert reminder.status is ReminderStatus.pending
        await _make_due(client)  # stopped before it could see this

    after = create_app(settings)
    async with serve(after) as client:
        client.app = after  # type: ignore[attr-defined]
        [message] = await eventually(
            lambda: _sent_with_template(client, "meeting_reminder"), what="the reminder sent after the restart")
        [reminder] = await meeting_reminders(client)

    assert (reminder.status, reminder.message_uuid) == (ReminderStatus.sent, message.id)
    [email] = [e for e in smtp_server.handler.messages() if e["Subject"] == "Reminder: your mediation meeting"]
    assert email["To"] == "Alex Example <alex@example.org>"
    assert email["Message-ID"] == message.message_id
    assert starts.strftime("%A %-d %B %Y, 10:00") in email.get_body(("plain",)).get_content()


async def _sent_with_template(client: httpx.AsyncClient, template: str) -> list[Message] | None:
    found = [m for m in await family_messages(client) if m.template == template and m.status is MessageStatus.sent]
    return found or None


async def test_a_reminder_that_falls_due_only_after_the_meeting_began_is_not_sent(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    await eventually(lambda: all_sent(notifications, 2), what="acknowledgement and invitation sent")

    await _make_due(notifications, expired=True)
    notifications.app.state.runtime.wake("reminder_scheduler")

    async def settled_reminder() -> Reminder | None:
        [reminder] = await meeting_reminders(notifications)
        return reminder if reminder.status is not ReminderStatus.pending else None

    reminder = await eventually(settled_reminder, what="the overdue reminder handled")
    assert reminder.status is ReminderStatus.expired
    assert len(await family_messages(notifications)) == 2


async def test_a_cancelled_reminder_never_fires(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    await deliver(notifications, cancelled(sequence=1), handlers.cancel_meeting_invitation)
    await _make_due(notifications)
    notifications.app.state.runtime.wake("reminder_scheduler")

    await eventually(lambda: all_sent(notifications, 3), what="three emails sent")
    await asyncio.sleep(2)  # several polls of the reminder worker (every 0.5 s here)

    [reminder] = await meeting_reminders(notifications)
    assert reminder.status is ReminderStatus.cancelled
    assert "meeting_reminder" not in {m.template for m in await rows(notifications, Message)}


# Reminders, whatever the order in which their events arrive: the events that plan a reminder and those that
# cancel it travel on different topics, so after a backlog the cancelling one may be handled first.


def concluded(*, held: bool = True) -> MeetingConcludedV1:
    return MeetingConcludedV1(meeting_id=MEETING_ID, case_id=CASE_ID, mediator_name="Jordan Avery",
                              provider_name="KIDS", concluded_on=clock.today(), held=held, agreement="partial")


def withdrawn() -> CaseWithdrawnV1:
    return CaseWithdrawnV1(case_id=CASE_ID, la_code="E06000033", withdrawn_on=clock.today(),
                           reason="no_longer_disputed")


def declined() -> CaseMediationDeclinedV1:
    today = clock.today()
    return CaseMediationDeclinedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=today, requester=Party(role="parent", name="Alex Example", email=PARENT),
        told_adviser_on=today, certificate_due_on=DEFAULT_CALENDAR.add_working_days(today, 3))


def certificate_issued() -> CertificateIssuedV1:
    today = clock.today()
    return CertificateIssuedV1(certificate_id="cert-1", case_id=CASE_ID, number="SEND-2026-000001-7",
                               kind="adviser", issued_on=today, due_on=today)


def submitted_today() -> CaseSubmittedV1:
    """A case whose deadline lies far enough ahead that its at-risk alert is planned in the future."""
    today = clock.today()
    return CaseSubmittedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=today, mediate_by=DEFAULT_CALENDAR.add_working_days(today, 20),
        requester=Party(role="parent", name="Alex Example", email=PARENT))


async def reminders_of_kind(client: httpx.AsyncClient, kind: str) -> list[Reminder]:
    return [r for r in await rows(client, Reminder) if r.kind == kind]


REMINDER_TEMPLATES = {reminder_service.MEETING: "meeting_reminder",
                      reminder_service.CERTIFICATE_DUE: "certificate_due_reminder",
                      reminder_service.DEADLINE_AT_RISK: "deadline_at_risk_alert"}


async def none_fires(client: httpx.AsyncClient, *kinds: str) -> None:
    """Make every reminder due and let the worker look several times: none of ``kinds`` queues a message."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for reminder in (await session.exec(select(Reminder))).all():
            reminder.due_at = clock.now() - timedelta(minutes=5)
            session.add(reminder)
        await session.commit()
    client.app.state.runtime.wake("reminder_scheduler")  # type: ignore[attr-defined]
    await asyncio.sleep(2)  # several polls of the reminder worker (every 0.5 s here)
    assert [r for r in await rows(client, Reminder) if r.kind in kinds and r.status is ReminderStatus.sent] == []
    templates = {REMINDER_TEMPLATES[kind] for kind in kinds}
    assert templates & {m.template for m in await rows(client, Message)} == set()


async def test_the_meetings_conclusion_cancels_its_reminder(notifications):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)

    await deliver(notifications, concluded(), handlers.note_meeting_concluded)

    [reminder] = await meeting_reminders(notifications)
    assert reminder.status is ReminderStatus.cancelled


async def test_a_conclusion_handled_before_the_booking_leaves_no_meeting_reminder_to_fire(notifications):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, concluded(), handlers.note_meeting_concluded)

    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)

    assert await meeting_reminders(notifications) == []
    await none_fires(notifications, reminder_service.MEETING)


async def test_a_withdrawal_handled_before_the_booking_leaves_no_reminder_of_the_case_to_fire(notifications):
    await deliver(notifications, withdrawn(), handlers.note_withdrawal)

    await deliver(notifications, submitted_today(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)

    assert [r for r in await rows(notifications, Reminder) if r.status is ReminderStatus.pending] == []
    await none_fires(notifications, *REMINDER_TEMPLATES)


async def test_a_certificate_issued_before_the_decline_is_handled_leaves_no_certificate_reminder_to_fire(
        notifications):
    await deliver(notifications, certificate_issued(), handlers.stop_certificate_reminders)

    await deliver(notifications, declined(), handlers.acknowledge_decline)

    assert await reminders_of_kind(notifications, reminder_service.CERTIFICATE_DUE) == []
    await none_fires(notifications, reminder_service.CERTIFICATE_DUE)


async def test_a_held_meeting_reported_before_the_case_is_handled_leaves_no_deadline_alert_to_fire(notifications):
    await deliver(notifications, concluded(held=True), handlers.note_meeting_concluded)

    await deliver(notifications, submitted_today(), handlers.acknowledge_request)

    assert await reminders_of_kind(notifications, reminder_service.DEADLINE_AT_RISK) == []


async def test_a_reminder_planned_beside_a_concurrent_cancellation_is_checked_again_and_never_fires(notifications):
    """Two replicas: one plans while the other cancels, neither sees the other's uncommitted row."""
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(meeting_day(10)), handlers.invite_to_meeting)
    async with notifications.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        session.add(ReminderCancellation(id="race-1", case_id=CASE_ID, kind="meeting", about_id=MEETING_ID,
                                         reason="meeting.cancelled.v1"))
        await session.commit()

    await none_fires(notifications, reminder_service.MEETING)

    [reminder] = await meeting_reminders(notifications)
    assert reminder.status is ReminderStatus.cancelled
