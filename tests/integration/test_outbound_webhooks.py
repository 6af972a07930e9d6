"""Webhooks to the mediation provider, against a real local HTTP receiver, PostgreSQL and Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, WebhookReceiver, eventually, serve

from scheduling.main import create_app
from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import Meeting, MeetingStatus
from scheduling.outbound.models import DeliveryStatus, WebhookEndpoint, WebhookMessage
from scheduling.settings import SchedulingSettings
from shared import clock, webhooks
from shared.events.cases import ReferralSubmittedV1
from shared.events.meetings import TIMELINE_TOPIC
from shared.outbox import OutboxEvent

#: The outbox rows but intake's copies of the meeting steps (scheduling.timeline).
NOT_TIMELINE = OutboxEvent.topic != TIMELINE_TOPIC

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, namespace: str) -> SchedulingSettings:
    return SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test",
                              webhook_retry_schedule_seconds=[0, 0.3, 0.3, 0.3], webhook_retry_jitter=0)


@pytest.fixture
async def scheduling(settings: SchedulingSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with serve(app) as client:
        yield client


async def register(client: httpx.AsyncClient, url: str) -> dict:
    response = await client.post("/v1/admin/webhook-endpoints", headers=OPS,
                                 json={"provider_id": "kids-send-mediation", "url": url})
    assert response.status_code == 201
    return response.json()


async def book(client: httpx.AsyncClient, case_id: str = "case-0001") -> Meeting:
    case = ReferralSubmittedV1(
        case_id=case_id, reference="SEND-TEST0001", la_code="E06000033",
        mediate_by=date(2026, 12, 20))
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meeting = await meeting_service.book_for_case(session, case, today=date(2026, 11, 20),
                                                      timezone="Europe/London")
        await session.commit()
    return meeting


async def messages(client: httpx.AsyncClient) -> list[WebhookMessage]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(WebhookMessage).order_by(WebhookMessage.created_at))).all())


async def delivered(client: httpx.AsyncClient) -> list[WebhookMessage] | None:
    found = await messages(client)
    return found if found and all(m.status is DeliveryStatus.delivered for m in found) else None


async def test_a_referral_is_retried_until_delivered_always_under_the_same_webhook_id(scheduling, receiver):
    endpoint = await register(scheduling, receiver.url)
    receiver.script += [(500, {}), (503, {"Retry-After": "0"})]

    meeting = await book(scheduling)
    [message] = await eventually(lambda: delivered(scheduling), what="the referral delivered")

    assert message.attempts == 3
    assert receiver.ids() == [message.id] * 3
    headers, body = receiver.received[-1]
    webhooks.verify([endpoint["secret"]], headers=headers, body=body)  # signed with the endpoint's secret
    assert message.payload["type"] == "case.referred"
    assert message.payload["data"]["meeting_id"] == meeting.id
    assert "alex" not in body.decode().lower()  # no personal data in the referral


async def test_retries_survive_a_restart_of_scheduling(settings, receiver):
    app = create_app(settings.model_copy(update={"webhook_retry_schedule_seconds": [0, 3, 3]}))
    async with serve(app) as client:
        await register(client, receiver.url)
        receiver.script += [(500, {})]
        await book(client)

        async def first_attempt_failed() -> bool:
            return [m.attempts for m in await messages(client)] == [1]

        await eventually(first_attempt_failed, what="the first attempt failed")
    assert len(receiver.received) == 1  # stopped before the retry was due

    app = create_app(settings)
    async with serve(app) as client:
        [message] = await eventually(lambda: delivered(client), what="the retry after the restart")

    assert receiver.ids() == [message.id, message.id]


async def test_410_gone_disables_the_endpoint_tells_ops_and_recovery_sends_again(scheduling, receiver):
    endpoint = await register(scheduling, receiver.url)
    receiver.script += [(410, {})]
    await book(scheduling)

    async def failed() -> list[WebhookMessage] | None:
        found = await messages(scheduling)
        return found if found and found[0].status is DeliveryStatus.failed else None

    [message] = await eventually(failed, what="the delivery failed")
    state = (await scheduling.get(f"/v1/admin/webhook-endpoints/{endpoint['endpoint_id']}", headers=OPS)).json()
    async with scheduling.app.state.runtime.sessionmaker() as session:
        events = [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE))).all()]
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    assert "provider.endpoint_disabled.v1" in events
    assert message.attempts == 1

    since = (clock.now() - timedelta(hours=1)).isoformat()
    recovered = await scheduling.post(f"/v1/admin/webhook-endpoints/{endpoint['endpoint_id']}/recover",
                                      headers=OPS, json={"since": since})
    [again] = await eventually(lambda: delivered(scheduling), what="the recovered delivery")

    assert recovered.json() == {"requeued": 1}
    assert receiver.ids() == [message.id, again.id] and again.id == message.id


async def test_exhausted_retries_disable_the_endpoint(scheduling, receiver):
    endpoint = await register(scheduling, receiver.url)
    receiver.script += [(500, {})] * 4
    await book(scheduling)

    async def disabled() -> bool:
        async with scheduling.app.state.runtime.sessionmaker() as session:
            found = await session.get(WebhookEndpoint, endpoint["endpoint_id"])
            return found is not None and not found.enabled

    await eventually(disabled, what="the endpoint disabled")

    [message] = await messages(scheduling)
    assert (message.status, message.attempts) == (DeliveryStatus.failed, 4)
    assert len(receiver.received) == 4


async def test_a_replayed_message_is_sent_again_under_the_same_id(scheduling, receiver):
    await register(scheduling, receiver.url)
    await book(scheduling)
    [message] = await eventually(lambda: delivered(scheduling), what="the referral delivered")

    response = await scheduling.post(f"/v1/admin/webhook-messages/{message.id}/replay", headers=OPS)
    await eventually(lambda: _received(receiver, 2), what="the replay received")

    assert response.status_code == 202
    assert receiver.ids() == [message.id, message.id]


async def _received(receiver: WebhookReceiver, count: int) -> bool:
    return len(receiver.received) >= count


async def test_a_rotated_secret_signs_beside_the_previous_one(scheduling, receiver):
    endpoint = await register(scheduling, receiver.url)
    rotated = (await scheduling.post(f"/v1/admin/webhook-endpoints/{endpoint['endpoint_id']}/rotate-secret",
                                     headers=OPS)).json()
    await book(scheduling)
    await eventually(lambda: delivered(scheduling), what="the referral delivered")

    headers, body = receiver.received[0]
    webhooks.verify([endpoint["secret"]], headers=headers, body=body)
    webhooks.verify([rotated["secret"]], headers=headers, body=body)


async def test_a_withdrawn_case_cancels_its_meeting_and_tells_the_provider(scheduling, receiver):
    await register(scheduling, receiver.url)
    meeting = await book(scheduling)

    async with scheduling.app.state.runtime.sessionmaker() as session:
        cancelled = await meeting_service.cancel_for_case(session, meeting.case_id, reason="case_withdrawn")
        await session.commit()
        events = [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE).order_by(OutboxEvent.id))).all()]
    found = await eventually(lambda: delivered(scheduling), what="both webhooks delivered")

    assert cancelled is not None and (cancelled.status, cancelled.sequence) == (MeetingStatus.cancelled, 1)
    assert events == ["meeting.scheduled.v1", "meeting.cancelled.v1"]
    assert [m.type for m in found] == ["case.referred", "meeting.cancelled"]


async def test_a_cancellation_waits_for_the_referral_it_cancels_while_the_referral_is_retried(scheduling, receiver):
    await register(scheduling, receiver.url)
    receiver.script += [(500, {}), (500, {})]
    meeting = await book(scheduling)

    async def first_attempt_failed() -> bool:
        return [m.attempts for m in await messages(scheduling)] == [1]

    await eventually(first_attempt_failed, what="the referral's first attempt failed")
    async with scheduling.app.state.runtime.sessionmaker() as session:
        await meeting_service.cancel_for_case(session, meeting.case_id, reason="case_withdrawn")
        await session.commit()
    found = await eventually(lambda: delivered(scheduling), what="both webhooks delivered")

    referral, cancellation = found
    assert receiver.ids() == [referral.id] * 3 + [cancellation.id]  # one case's webhooks in order, retries too
