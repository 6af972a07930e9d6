"""One bad row costs one item, never the queue behind it (issue 11), with real PostgreSQL, Kafka and SMTP.

Each poison item is made below the API (a row written directly, a template context that cannot render, an
event recorded straight into the outbox), so these tests stay valid whatever the API edge refuses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlmodel import select
from support import NOVEMBER_2026, OPS, WebhookReceiver, eventually, serve

from intake.main import create_app as create_intake
from intake.settings import IntakeSettings
from notifications.main import create_app as create_notifications
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus, Recipient
from notifications.reminder.models import Reminder, ReminderStatus
from notifications.settings import NotificationsSettings
from scheduling.main import create_app as create_scheduling
from scheduling.meeting import service as meeting_service
from scheduling.outbound.models import DeliveryStatus, WebhookEndpoint, WebhookMessage
from scheduling.settings import SchedulingSettings
from shared import clock, outbox
from shared.events import CaseSubmittedV1, Envelope, Party
from shared.kafka import codec
from shared.localinfra.smtp import SmtpServer
from shared.outbox import OutboxEvent

pytestmark = pytest.mark.clock(NOVEMBER_2026)

#: Parked after two failures, tried again a tenth of a second after the first.
POISON = {"poison_max_tries": 2, "poison_retry_seconds": 0.1}
LINE_BREAK_NAME = "Alex Example\r\nBcc: everyone@example.org"


def submitted(case_id: str, *, la_code: str = "E06000033", name: str = "Alex Example",
              email: str = "alex@example.org", **extra: Any) -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=case_id, reference="SEND-TEST0001", la_code=la_code, decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20),
        requester=Party(role="parent", name=name, email=email), **extra)


async def parked(client: httpx.AsyncClient, source: str, count: int = 1) -> list[dict[str, Any]] | None:
    response = await client.get(f"/v1/ops/dead-letters?source={source}", headers=OPS)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items if len(items) >= count else None


# --- the email sender --------------------------------------------------------------------------------------------


@pytest.fixture
async def notifications(database_url: str, kafka_bootstrap: str, namespace: str,
                        smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     **POISON)
    async with serve(create_notifications(settings)) as client:
        yield client


async def acknowledge(client: httpx.AsyncClient, data: CaseSubmittedV1, *, stored_name: str | None = None,
                      drop_context: str | None = None) -> None:
    """Handle the case's submission as the consumer would; optionally spoil what was stored, in the same commit."""
    envelope = Envelope.wrap(data, source="/test", subject=data.case_id)
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await handlers.acknowledge_request(envelope, session)
        if stored_name is not None:
            recipient = await session.get(Recipient, (data.case_id, "requester"))
            assert recipient is not None
            recipient.name = stored_name
            session.add(recipient)
        if drop_context is not None:  # the template then meets an unfilled placeholder (StrictUndefined)
            await session.flush()
            for message in (await session.exec(select(Message).where(
                    Message.case_id == data.case_id, Message.recipient_role == "requester"))).all():
                message.context = {k: v for k, v in message.context.items() if k != drop_context}
                session.add(message)
        await session.commit()


async def requester_message(client: httpx.AsyncClient, case_id: str) -> Message:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return (await session.exec(select(Message).where(
            Message.case_id == case_id, Message.recipient_role == "requester"))).one()


async def test_an_unsendable_email_is_parked_after_bounded_tries_while_the_emails_behind_it_are_delivered(
        notifications, smtp_server):
    # Queued first, so each is at the head of the queue: a name with a line break, a template that cannot render.
    await acknowledge(notifications, submitted("case-poison-name", email="poison-name@example.org"),
                      stored_name=LINE_BREAK_NAME)
    await acknowledge(notifications, submitted("case-poison-render", email="poison-render@example.org"),
                      drop_context="mediate_by")
    good = [f"parent{n}@example.org" for n in range(3)]
    for n, address in enumerate(good):
        await acknowledge(notifications, submitted(f"case-good-{n}", email=address))

    async def all_good_delivered() -> bool:
        return all(smtp_server.handler.messages(to=address) for address in good)

    await eventually(all_good_delivered, what="the emails behind the poison ones delivered")
    letters = await eventually(lambda: parked(notifications, "email_sender", 2), what="both poison emails parked")

    assert smtp_server.handler.messages(to="poison-name@example.org") == []
    assert smtp_server.handler.messages(to="poison-render@example.org") == []
    by_case = {letter["case_id"]: letter for letter in letters}
    assert set(by_case) == {"case-poison-name", "case-poison-render"}
    for letter in letters:
        assert (letter["source"], letter["reason"], letter["status"]) == ("email_sender", "unrenderable", "dead")
        assert letter["original"]["topic"] == "messages"
    assert by_case["case-poison-name"]["error"].startswith("HeaderRefused")  # a line break in a header value
    assert by_case["case-poison-render"]["error"].startswith("UndefinedError")
    one = (await notifications.get(f"/v1/ops/dead-letters/{by_case['case-poison-name']['id']}", headers=OPS)).text
    assert "Alex" not in one and "everyone@" not in one and "poison-name@" not in one  # no personal data
    for case_id in ("case-poison-name", "case-poison-render"):
        message = await requester_message(notifications, case_id)
        assert message.status is MessageStatus.pending and message.id == by_case[case_id]["event_id"]
    metrics = (await notifications.get("/metrics")).text
    assert 'worker_items_parked_total{reason="unrenderable",service="notifications",worker="email_sender"}' in metrics
    ready = (await notifications.get("/readyz")).json()
    assert ready["status"] == "ok" and ready["workers"]["email_sender"]["status"] == "ok"  # the sender moved on


async def test_ops_redrive_a_parked_email_once_its_data_is_fixed_and_it_is_delivered(notifications, smtp_server):
    await acknowledge(notifications, submitted("case-poison-name", email="poison-name@example.org"),
                      stored_name=LINE_BREAK_NAME)
    [letter] = await eventually(lambda: parked(notifications, "email_sender"), what="the poison email parked")
    async with notifications.app.state.runtime.sessionmaker() as session:
        recipient = await session.get(Recipient, ("case-poison-name", "requester"))
        recipient.name = "Alex Example"
        session.add(recipient)
        await session.commit()

    response = await notifications.post(f"/v1/ops/dead-letters/{letter['id']}/redrive", headers=OPS)

    assert response.status_code == 200
    assert response.json() == {"id": letter["id"], "outcome": "requeued", "status": "redriven", "error": None}
    [email] = await eventually(lambda: _emails(smtp_server, "poison-name@example.org"), what="the re-driven email")
    assert email["To"] == "Alex Example <poison-name@example.org>"
    assert (await requester_message(notifications, "case-poison-name")).status is MessageStatus.sent
    assert await parked(notifications, "email_sender") is None  # no longer waiting
    again = await notifications.post(f"/v1/ops/dead-letters/{letter['id']}/redrive", headers=OPS)
    assert again.status_code == 409


async def _emails(smtp_server: SmtpServer, address: str) -> list[Any] | None:
    return smtp_server.handler.messages(to=address) or None


async def test_ops_discard_a_parked_email_with_a_reason_and_it_is_never_sent(notifications, smtp_server):
    await acknowledge(notifications, submitted("case-poison-name", email="poison-name@example.org"),
                      stored_name=LINE_BREAK_NAME)
    [letter] = await eventually(lambda: parked(notifications, "email_sender"), what="the poison email parked")

    response = await notifications.post(f"/v1/ops/dead-letters/{letter['id']}/discard", headers=OPS,
                                        json={"reason": "the family was phoned instead"})

    assert response.status_code == 200 and response.json()["status"] == "discarded"
    await acknowledge(notifications, submitted("case-good", email="parent@example.org"))
    await eventually(lambda: _emails(smtp_server, "parent@example.org"), what="a later email delivered")
    assert smtp_server.handler.messages(to="poison-name@example.org") == []


async def test_a_reminder_that_cannot_fire_is_parked_while_the_reminders_behind_it_fire(notifications):
    now = clock.now()
    async with notifications.app.state.runtime.sessionmaker() as session:
        for n, template in enumerate(("no_such_template", "deadline_at_risk_alert", "deadline_at_risk_alert")):
            session.add(Reminder(id=f"reminder-{n}", case_id=f"case-{n}", la_code="E06000033", kind="test",
                                 about_id=f"case-{n}", template=template, recipient_role="la_officer",
                                 context={}, due_at=now - timedelta(minutes=10 - n)))
        await session.commit()

    async def parked_reminder() -> list[dict[str, Any]] | None:
        notifications.app.state.runtime.wake("reminder_scheduler")  # rather than wait for its 30 s poll
        return await parked(notifications, "reminder_scheduler")

    [letter] = await eventually(parked_reminder, what="the bad reminder parked")

    async def statuses() -> dict[str, ReminderStatus] | None:
        notifications.app.state.runtime.wake("reminder_scheduler")
        async with notifications.app.state.runtime.sessionmaker() as session:
            found = {r.id: r.status for r in (await session.exec(select(Reminder))).all()}
        # The park can come before the reminders behind it have fired (its retry may be due at once): wait for them.
        return found if found["reminder-2"] is not ReminderStatus.pending else None

    assert await eventually(statuses, what="the reminders behind it fired") == {
        "reminder-0": ReminderStatus.pending, "reminder-1": ReminderStatus.sent, "reminder-2": ReminderStatus.sent}
    assert (letter["reason"], letter["event_id"], letter["original"]["topic"]) == ("item_failed", "reminder-0",
                                                                                  "reminders")
    assert letter["error"].startswith("KeyError")


# --- the outbox relay --------------------------------------------------------------------------------------------


@pytest.fixture
async def intake(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test", run_consumer=False, **POISON)
    async with serve(create_intake(settings)) as client:
        yield client


async def record(client: httpx.AsyncClient, data: CaseSubmittedV1) -> Envelope[Any]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        envelope = outbox.add_event(session, data, subject=data.case_id)
        await session.commit()
    return envelope


class TopicReader:
    """A consumer of one topic from its start, gathering case ids in the order of arrival."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                         enable_auto_commit=False, group_id=None, fetch_max_bytes=4 * 1048576)
        self.events: list[Envelope[Any]] = []

    async def read_until(self, case_ids: set[str]) -> list[str]:
        async def seen() -> list[str] | None:
            for records in (await self.consumer.getmany(timeout_ms=300)).values():
                self.events.extend(codec.decode(r.headers, r.value) for r in records)
            got = [event.subject for event in self.events]
            return got if case_ids <= set(got) else None

        return await eventually(seen, what=f"{sorted(case_ids)} consumed")


@pytest.fixture
async def cases_topic(intake: httpx.AsyncClient, kafka_bootstrap: str,
                      namespace: str) -> AsyncIterator[TopicReader]:
    reader = TopicReader(kafka_bootstrap, f"{namespace}{CaseSubmittedV1.topic}")
    await reader.consumer.start()
    yield reader
    await reader.consumer.stop()


async def test_an_event_larger_than_the_broker_takes_is_parked_while_later_cases_of_other_las_flow(
        intake, cases_topic):
    huge = submitted("case-huge", accessibility_needs=("x" * 1_200_000,))  # about 1.2 MB, over the 1 MiB limit
    await record(intake, huge)
    # Held behind it: a case's events are never published out of order.
    later_same_case = await record(intake, submitted("case-huge"))
    others = {f"case-{la}": la for la in ("E06000033", "E08000025", "E09000033")}
    for case_id, la_code in others.items():
        await record(intake, submitted(case_id, la_code=la_code))

    consumed = await cases_topic.read_until(set(others))
    [letter] = await eventually(lambda: parked(intake, "outbox_relay"), what="the huge event parked")

    assert "case-huge" not in consumed
    assert (letter["reason"], letter["case_id"], letter["event_type"]) == ("too_large", "case-huge",
                                                                          "case.submitted.v1")
    assert letter["error"].startswith("too_large: MessageSizeTooLargeError")
    assert letter["original"]["topic"] == "outbox_events"
    async with intake.app.state.runtime.sessionmaker() as session:
        unpublished = (await session.exec(select(OutboxEvent).where(OutboxEvent.published_at == None))).all()  # noqa: E711
    assert sorted(row.subject for row in unpublished) == ["case-huge", "case-huge"]
    metrics = (await intake.get("/metrics")).text
    assert 'worker_items_parked_total{reason="too_large",service="intake",worker="outbox_relay"}' in metrics

    # Ops discard it (the case is put right another way): the case's later event is held no longer.
    response = await intake.post(f"/v1/ops/dead-letters/{letter['id']}/discard", headers=OPS,
                                 json={"reason": "issues shortened and the case re-sent"})
    assert response.status_code == 200
    await cases_topic.read_until({*others, "case-huge"})
    [published] = [event for event in cases_topic.events if event.subject == "case-huge"]
    assert published.id == later_same_case.id


async def test_an_event_that_cannot_be_encoded_is_parked_after_bounded_tries_and_redriven_once_fixed(
        intake, cases_topic):
    good = submitted("case-broken")
    envelope = Envelope.wrap(good, source="/send-mediation/intake", subject="case-broken").model_dump(mode="json")
    broken = {**envelope, "data": {**envelope["data"], "decision": "no such decision"}}
    async with intake.app.state.runtime.sessionmaker() as session:
        session.add(OutboxEvent(event_id=envelope["id"], topic=CaseSubmittedV1.topic, type=CaseSubmittedV1.type,
                                subject="case-broken", envelope=json.dumps(broken)))
        await session.commit()
    await record(intake, submitted("case-after"))

    await cases_topic.read_until({"case-after"})
    [letter] = await eventually(lambda: parked(intake, "outbox_relay"), what="the broken event parked")
    assert (letter["reason"], letter["case_id"]) == ("unencodable", "case-broken")
    assert letter["error"].startswith("ValidationError")

    async with intake.app.state.runtime.sessionmaker() as session:
        row = (await session.exec(select(OutboxEvent).where(OutboxEvent.subject == "case-broken"))).one()
        row.envelope = json.dumps(envelope)
        session.add(row)
        await session.commit()
    response = await intake.post(f"/v1/ops/dead-letters/{letter['id']}/redrive", headers=OPS)

    assert response.json()["outcome"] == "requeued"
    await cases_topic.read_until({"case-after", "case-broken"})


# --- the webhook dispatcher --------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
async def scheduling(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                  kafka_namespace=namespace, environment="test", run_consumer=False,
                                  webhook_retry_schedule_seconds=[0, 0.3, 0.3, 0.3], webhook_retry_jitter=0,
                                  **POISON)
    async with serve(create_scheduling(settings)) as client:
        yield client


async def book(client: httpx.AsyncClient, case_id: str) -> None:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await meeting_service.book_for_case(session, submitted(case_id), today=date(2026, 11, 20),
                                            timezone="Europe/London")
        await session.commit()


async def webhook_messages(client: httpx.AsyncClient) -> dict[str, WebhookMessage]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return {m.case_id: m for m in (await session.exec(select(WebhookMessage))).all()}


async def test_a_delivery_the_receiver_keeps_refusing_is_parked_while_later_deliveries_go_out(scheduling, receiver):
    created = await scheduling.post("/v1/admin/webhook-endpoints", headers=OPS,
                                    json={"provider_id": "kids-send-mediation", "url": receiver.url})
    endpoint_id = created.json()["endpoint_id"]
    receiver.refuse = lambda body: 500 if b"case-refused" in body else None  # this one delivery's data
    refused_case, first, later = "case-refused", f"case-{uuid.uuid4().hex[:6]}", f"case-{uuid.uuid4().hex[:6]}"
    await book(scheduling, refused_case)
    await book(scheduling, first)

    async def delivered(case_id: str) -> WebhookMessage | None:
        message = (await webhook_messages(scheduling)).get(case_id)
        return message if message is not None and message.status is DeliveryStatus.delivered else None

    await eventually(lambda: delivered(first), what="the delivery behind the refused one")
    [letter] = await eventually(lambda: parked(scheduling, "webhook_dispatcher"), what="the refused delivery parked")
    await book(scheduling, later)
    await eventually(lambda: delivered(later), what="a later delivery")

    assert (letter["reason"], letter["case_id"]) == ("rejected", refused_case)
    assert letter["error"] == "rejected: HTTP 500 on each of 4 attempts"
    async with scheduling.app.state.runtime.sessionmaker() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None and endpoint.enabled  # the receiver works: only the one delivery is parked
    refused = (await webhook_messages(scheduling))[refused_case]
    assert (refused.status, refused.attempts) == (DeliveryStatus.failed, 4)

    receiver.refuse = lambda body: None  # the provider fixed their side
    response = await scheduling.post(f"/v1/ops/dead-letters/{letter['id']}/redrive", headers=OPS)
    assert response.json()["outcome"] == "requeued"
    again = await eventually(lambda: delivered(refused_case), what="the re-driven delivery")
    assert again.id == refused.id  # under the same webhook-id


# --- readiness -----------------------------------------------------------------------------------------------------


async def test_readiness_reports_a_worker_whose_every_step_fails_not_for_an_outage_as_stuck(
        database_url, kafka_bootstrap, namespace):
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test", run_consumer=False,
                              worker_stuck_seconds=0.5)
    async with serve(create_intake(settings)) as intake:
        before = (await intake.get("/readyz")).json()
        async with intake.app.state.runtime.engine.begin() as connection:  # a migration gone missing, say
            await connection.execute(text("DROP TABLE work_item_failures"))

        async def stuck() -> dict[str, Any] | None:
            body: dict[str, Any] = (await intake.get("/readyz")).json()
            return body if body["status"] == "degraded" else None

        after = await eventually(stuck, what="the relay reported stuck")

    assert before["status"] == "ok" and before["workers"]["outbox_relay"]["status"] == "ok"
    assert after["stuck_workers"] == ["outbox_relay"]
    assert after["workers"]["outbox_relay"]["status"].startswith("stuck: failing for")
    assert after["checks"] == {"database": "ok", "kafka": "ok"}
