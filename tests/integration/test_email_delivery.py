"""Notifications over a real SMTP server (aiosmtpd) with PostgreSQL and Kafka."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, eventually, handle, serve

from notifications.main import create_app
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus
from notifications.settings import NotificationsSettings
from shared.events import (
    CaseSubmittedV1,
    CertificateDocumentReadyV1,
    Envelope,
    EventData,
    MeetingScheduledV1,
    Party,
)
from shared.localinfra.smtp import SmtpServer
from shared.outbox import OutboxEvent

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

CASE_ID = "case-0001"
PARENT = "alex@example.org"


@pytest.fixture
async def notifications(database_url: str, kafka_bootstrap: str, namespace: str,
                        smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port)
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


async def messages(client: httpx.AsyncClient) -> list[Message]:
    """The parent's messages (the catalogue's other recipients are tested in test_notifications_recipients.py)."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(Message).where(Message.recipient_role == "requester"))).all())


async def outbox_types(client: httpx.AsyncClient) -> list[str]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    return [row.type for row in rows if json.loads(row.envelope)["data"]["recipient_role"] == "requester"]


async def settled(client: httpx.AsyncClient) -> list[Message] | None:
    found = await messages(client)
    return found if found and all(m.status is not MessageStatus.pending for m in found) else None


async def test_a_submitted_case_emails_the_parent_with_the_las_reply_to_and_a_stable_message_id(
        notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    [message] = await eventually(lambda: settled(notifications), what="the email sent")

    [email] = smtp_server.handler.messages(to=PARENT)
    assert email["To"] == "Alex Example <alex@example.org>"
    assert email["Reply-To"] == "send.mediation@southend.gov.uk"
    assert email["Message-ID"] == message.message_id
    assert "SEND-TEST0001" in email.get_body(("plain",)).get_content()
    assert await outbox_types(notifications) == ["notification.sent.v1"]


async def test_the_same_event_delivered_twice_sends_one_email(notifications, smtp_server):
    envelope = Envelope.wrap(submitted(), source="/test", subject=CASE_ID)
    for _ in range(2):
        async with notifications.app.state.runtime.sessionmaker() as session:
            await handlers.acknowledge_request(envelope, session)
            await session.commit()

    await eventually(lambda: settled(notifications), what="the email sent")

    assert len(smtp_server.handler.messages(to=PARENT)) == 1


async def test_a_temporary_failure_is_retried_and_the_email_delivered_exactly_once(notifications, smtp_server):
    smtp_server.handler.script("451 4.3.0 Try again later", to=PARENT)

    await deliver(notifications, submitted(), handlers.acknowledge_request)
    [message] = await eventually(lambda: settled(notifications), timeout=90, what="the email sent after a retry")

    assert message.status is MessageStatus.sent
    assert message.attempts == 2
    assert len(smtp_server.handler.messages(to=PARENT)) == 1


async def test_a_permanent_failure_is_recorded_announced_and_not_retried(notifications, smtp_server):
    smtp_server.handler.script("550 5.1.1 No such mailbox", to=PARENT)

    await deliver(notifications, submitted(), handlers.acknowledge_request)
    [message] = await eventually(lambda: settled(notifications), what="the email failed")

    assert (message.status, message.attempts, message.last_error) == (MessageStatus.failed, 1, "SMTP 550")
    assert smtp_server.handler.messages(to=PARENT) == []
    assert await outbox_types(notifications) == ["notification.failed.v1"]
    log = (await notifications.get("/v1/messages?status=failed", headers=OPS)).json()["items"]
    assert [entry["id"] for entry in log] == [message.id]


async def test_a_meeting_invitation_carries_an_ics_request_in_london_time(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    starts = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    await deliver(notifications, MeetingScheduledV1(
        meeting_id="meeting-1", case_id=CASE_ID, mediator_id="med-0001", mediator_name="Jordan Avery",
        provider_name="KIDS", starts_at=starts, ends_at=starts.replace(hour=12), location="Video call",
        arranging_body="local_authority"), handlers.invite_to_meeting)

    await eventually(lambda: settled(notifications), what="both emails sent")

    invitation = next(e for e in smtp_server.handler.messages() if e["Subject"] == "Your mediation meeting is booked")
    [ics] = [part for part in invitation.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(ics.get_content())
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "meeting-1@send-mediation.example"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == starts
    assert "alex@example.org" in str(event["ATTENDEE"])


async def test_the_certificate_email_has_the_pdf_attached(notifications, smtp_server):
    pdf = b"%PDF-1.7 a certificate"
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, CertificateDocumentReadyV1(
        certificate_id="cert-1", case_id=CASE_ID, number="MC-2026-000001-1", kind="adviser",
        issued_on=date(2026, 11, 23), filename="MC-2026-000001-1.pdf",
        pdf_base64=base64.b64encode(pdf).decode()), handlers.send_certificate)

    await eventually(lambda: settled(notifications), what="both emails sent")

    email = next(e for e in smtp_server.handler.messages() if e["Subject"] == "Your mediation certificate")
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "MC-2026-000001-1.pdf"
    assert attachment.get_content() == pdf
