"""R21: a type-4 disagreement-resolution case (LA and health commissioning body) sends nothing to a parent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select
from support import eventually, handle, serve

from notifications.main import create_app
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus
from notifications.reminder.models import Reminder
from notifications.settings import NotificationsSettings
from shared import clock
from shared.calendar import DEFAULT_CALENDAR
from shared.events import Envelope, EventData, MeetingScheduledV1
from shared.events.cases import CaseDisagreementResolutionRequestedV1, DrPartyFact
from shared.localinfra.smtp import SmtpServer

LONDON = ZoneInfo("Europe/London")
CASE_ID = "case-dr-0001"
PARENT_EMAIL = "alex@example.org"


@pytest.fixture
async def notifications(database_url: str, kafka_bootstrap: str, namespace: str,
                        smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     reminder_poll_interval_seconds=0.5)
    app = create_app(settings)
    async with serve(app) as client:
        yield client


async def deliver(client: httpx.AsyncClient, data: EventData, handler: Any, case_id: str = CASE_ID) -> Envelope:
    return await handle(client, data, handler, subject=case_id)


def requested(dr_type: int, *parties: DrPartyFact) -> CaseDisagreementResolutionRequestedV1:
    return CaseDisagreementResolutionRequestedV1(case_id=CASE_ID, reference="SEND-DR0001", la_code="E06000033",
                                                 dr_type=dr_type, parties=parties, all_consented=True)


LA = DrPartyFact(role="local_authority", name="Southend SEND team", email="send@southend.example", consented=True)
ICB = DrPartyFact(role="health_commissioning_body", name="Mid and South Essex ICB", email="icb@nhs.example",
                  consented=True)
PARENT = DrPartyFact(role="parent", name="Alex Example", email="alex@example.org", consented=True)


def meeting() -> MeetingScheduledV1:
    day = DEFAULT_CALENDAR.add_working_days(clock.today(), 10)
    starts = datetime.combine(day, time(10, 0), tzinfo=LONDON)
    return MeetingScheduledV1(meeting_id="meeting-dr-1", case_id=CASE_ID, mediator_id="med-0001",
                              mediator_name="Jordan Avery", provider_name="KIDS", starts_at=starts,
                              ends_at=starts + timedelta(hours=2), location="Video call",
                              arranging_body="local_authority")


async def rows(client: httpx.AsyncClient, model: type) -> list:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(model))).all())


async def family_messages(client: httpx.AsyncClient) -> list[Message]:
    """The parent's messages; the LA officer and the health body are invited too (test_notifications_recipients.py)."""
    return [m for m in await rows(client, Message) if m.recipient_role == "requester"]


async def test_a_type_4_case_queues_no_invitation_or_reminder_for_a_parent(notifications, smtp_server):
    await deliver(notifications, requested(4, LA, ICB), handlers.remember_disagreement_resolution_parties)

    await deliver(notifications, meeting(), handlers.invite_to_meeting)

    assert await family_messages(notifications) == []
    assert await rows(notifications, Reminder) == []
    assert [e for e in smtp_server.handler.messages() if e["X-Envelope-To"] == PARENT_EMAIL] == []


async def test_an_invitation_queued_before_the_case_turned_out_to_be_type_4_is_never_sent(notifications, smtp_server):
    await deliver(notifications, meeting(), handlers.invite_to_meeting)  # the meetings topic ran ahead
    [waiting] = await family_messages(notifications)
    assert waiting.status is MessageStatus.pending  # waiting for a parent's address that will never come

    await deliver(notifications, requested(4, LA, ICB), handlers.remember_disagreement_resolution_parties)

    assert await family_messages(notifications) == []
    assert [e for e in smtp_server.handler.messages() if e["X-Envelope-To"] == PARENT_EMAIL] == []


async def test_a_case_with_a_parent_party_invites_the_parent(notifications, smtp_server):
    await deliver(notifications, requested(2, PARENT, LA), handlers.remember_disagreement_resolution_parties)

    await deliver(notifications, meeting(), handlers.invite_to_meeting)

    async def sent() -> list[Message] | None:
        found = await family_messages(notifications)
        return found if found and all(m.status is MessageStatus.sent for m in found) else None

    [message] = await eventually(sent, what="the invitation sent")
    assert message.template == "meeting_scheduled"
    [email] = [e for e in smtp_server.handler.messages() if e["X-Envelope-To"] == PARENT_EMAIL]
    assert email["To"] == "Alex Example <alex@example.org>"
    assert len(await rows(notifications, Reminder)) == 1
