"""Two replicas of every service on the same PostgreSQL databases and Kafka consumer groups do every piece of work
exactly once and keep each case's events in order: the API of either replica takes the requests, both consumers
share each group, and both copies of every worker (outbox relay, booking, certificate issuer, email sender,
reminders, webhook dispatcher, deadline watch) run at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from support import PORTAL, WebhookReceiver, case_payload, eventually

from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET
from shared import clock, webhooks

pytestmark = pytest.mark.e2e

MEDIATIONS = 3
DECLINES = 2
#: The topics each service publishes on (the outbox of its own database).
SERVICES = ("intake", "scheduling", "certificates", "notifications")


@pytest.fixture
def system_replicas() -> int:
    return 2


@pytest.fixture
def provider() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def system_env(provider: WebhookReceiver) -> dict[str, dict[str, str]]:
    return {"scheduling": {"SCHEDULING_PROVIDER_WEBHOOK_URL": provider.url}}


async def query(database_url: str, sql: str) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def timeline_step(client: httpx.AsyncClient, case_id: str, kind: str) -> dict[str, Any] | None:
    case = (await client.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return next((entry for entry in case["timeline"] if entry["kind"] == kind), None)


def parent(index: int) -> str:
    return f"parent{index}@example.org"


def certificate_emails(system: Any, index: int) -> list[Any]:
    return [m for m in system.smtp.handler.messages(to=parent(index)) if m["Subject"] == "Your mediation certificate"]


async def certificate_emailed(system: Any, index: int) -> list[Any]:
    return certificate_emails(system, index)


async def quiet(system: Any) -> bool:
    """Nothing left to do anywhere: every outbox published, every email and webhook handled."""
    checks = [
        *[(system.database_urls[s], "SELECT count(*) FROM outbox_events WHERE published_at IS NULL") for s in SERVICES],
        (system.database_urls["notifications"], "SELECT count(*) FROM messages WHERE status = 'pending'"),
        (system.database_urls["scheduling"], "SELECT count(*) FROM webhook_messages WHERE status = 'pending'"),
        (system.database_urls["certificates"], "SELECT count(*) FROM certificates WHERE status = 'pending'"),
    ]
    for url, sql in checks:
        if (await query(url, sql))[0][0]:
            return False
    return True


async def no_email_in_flight(system: Any) -> bool:
    """No send is under way: a send's lease is measured on the scenario clock, so a move of days, applied by
    one replica before the other, would let it take again an email the other is sending."""
    [(in_flight,)] = await query(system.database_urls["notifications"],
                                 "SELECT count(*) FROM email_attempts WHERE outcome = 'in_flight'")
    return in_flight == 0


async def settled(system: Any) -> bool:
    """Quiet, with no email in flight, and still so a moment later: an event still on its way to a consumer
    when the first look was taken has been handled by the second."""
    for look in range(2):
        if not (await quiet(system) and await no_email_in_flight(system)):
            return False
        if look == 0:
            await asyncio.sleep(3)
    return True


async def read_topics(bootstrap: str, topics: list[str]) -> list[dict[str, Any]]:
    """Every record on ``topics``, read from the beginning to the end by a consumer outside any group."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        await eventually(lambda: _assigned(consumer, topics), timeout=30, what="every partition assigned")
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[dict[str, Any]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batches = await consumer.getmany(*partitions, timeout_ms=1000)
            for tp, batch in batches.items():
                for record in batch:
                    headers = {k: v.decode() for k, v in record.headers}
                    records.append({"topic": tp.topic, "partition": tp.partition, "offset": record.offset,
                                    "id": headers["ce_id"], "type": headers["ce_type"],
                                    "subject": headers.get("ce_subject")})
        return records
    finally:
        await consumer.stop()


async def _assigned(consumer: AIOKafkaConsumer, topics: list[str]) -> bool:
    await consumer.getmany(timeout_ms=100)  # lets the assignment happen; what it reads is read again after the seek
    return {tp.topic for tp in consumer.assignment()} == set(topics)


async def test_two_replicas_of_every_service_do_each_piece_of_work_once_and_keep_each_cases_events_in_order(
        system, provider, kafka_bootstrap, namespace):
    intake = [httpx.AsyncClient(base_url=system.url("intake", r), timeout=30) for r in (0, 1)]
    try:
        cases: list[dict[str, Any]] = []
        for index in range(MEDIATIONS + DECLINES):  # alternately through each replica's API
            payload = case_payload(requester={"role": "parent", "name": "Alex Example", "email": parent(index)})
            if index >= MEDIATIONS:
                payload = case_payload(kind="mediation_declined", mediation_issues=[],
                                       requester={"role": "parent", "name": "Alex Example", "email": parent(index)})
            cases.append((await intake[index % 2].post("/v1/cases", json=payload, headers=PORTAL))
                         .raise_for_status().json())
        mediations, declines = cases[:MEDIATIONS], cases[MEDIATIONS:]

        meetings = []
        for index, case in enumerate(mediations):
            booked = await eventually(lambda c=case, i=index: timeline_step(intake[(i + 1) % 2], c["id"],
                                                                            "meeting_scheduled"),
                                      timeout=90, what="each mediation booked")
            meeting = httpx.get(f"{system.url('scheduling', index % 2)}/v1/meetings/{booked['reference']}",
                                headers=PORTAL, timeout=30).raise_for_status().json()
            meetings.append(meeting)
        # One move of the scenario clock past every meeting (reminders fall due on the way), once no email is
        # being sent or about to be: a booking's email is queued when notifications consumes the booking, which
        # may come after intake has it in the timeline.
        await eventually(lambda: settled(system), timeout=60, what="no email being sent or waiting")
        last = max(meetings, key=lambda m: m["starts_at"])
        system.after_meeting(last["id"])
        for index, meeting in enumerate(meetings):
            held_on = clock.london_date(datetime.fromisoformat(meeting["starts_at"]))
            assert clock.now() >= datetime.combine(held_on + timedelta(days=1), time(10), tzinfo=clock.LONDON)
            body = json.dumps({"type": "meeting.outcome_reported", "data": {
                "meeting_id": meeting["id"], "held": True, "concluded_on": held_on.isoformat(),
                "agreement": "none"}}).encode()
            headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
            outcome = httpx.post(f"{system.url('scheduling', index % 2)}/v1/webhooks/provider", content=body,
                                 headers={**headers, "content-type": "application/json"}, timeout=30)
            assert outcome.status_code == 200, outcome.text

        for index in range(len(cases)):
            await eventually(lambda i=index: certificate_emailed(system, i), timeout=90,
                             what="every family's certificate emailed")
        await eventually(lambda: quiet(system), timeout=60, what="every service idle")
    finally:
        for client in intake:
            await client.aclose()
    case_ids = {case["id"] for case in cases}

    # Each certificate exactly once per case, of the kind its path calls for.
    issued = await query(system.database_urls["certificates"],
                         "SELECT case_id, kind FROM certificates WHERE status = 'issued'")
    assert sorted(issued) == sorted([(c["id"], "mediator") for c in mediations] +
                                    [(c["id"], "adviser") for c in declines])

    # Each email exactly once: every Message-ID reached the SMTP sink once, and every sent message is there.
    received = system.smtp.handler.messages()
    assert [mid for mid, n in Counter(str(m["Message-ID"]) for m in received).items() if n > 1] == []
    sent = await query(system.database_urls["notifications"], "SELECT message_id FROM messages WHERE status = 'sent'")
    assert sorted(str(m["Message-ID"]) for m in received) == sorted(row.message_id for row in sent)
    for index in range(len(cases)):
        assert len(certificate_emails(system, index)) == 1
        subjects = Counter(m["Subject"] for m in system.smtp.handler.messages(to=parent(index)))
        assert [s for s, n in subjects.items() if n > 1] == []
    for index in range(MEDIATIONS):
        subjects = [m["Subject"] for m in system.smtp.handler.messages(to=parent(index))]
        assert subjects.count("Your mediation meeting is booked") == 1

    # Each outbound webhook exactly once, signed, at the provider's real HTTP endpoint.
    assert [i for i, n in Counter(provider.ids()).items() if n > 1] == []
    deliveries = []
    for headers, body in provider.received:
        webhooks.verify([DEVELOPMENT_PROVIDER_SECRET], headers=headers, body=body)
        payload = json.loads(body)
        deliveries.append((payload["type"], payload["data"].get("case_id")))
    assert [d for d, n in Counter(deliveries).items() if n > 1] == []
    assert sorted(case for kind, case in deliveries if kind == "case.referred") == sorted(c["id"] for c in mediations)
    delivered = await query(system.database_urls["scheduling"],
                            "SELECT id FROM webhook_messages WHERE status = 'delivered'")
    assert sorted(provider.ids()) == sorted(row.id for row in delivered)

    # Each event on Kafka once, and each case's events in the order its service recorded them.
    recorded: dict[str, list[Any]] = {}
    for service in SERVICES:
        rows = await query(system.database_urls[service],
                           "SELECT id, event_id, topic, type, subject FROM outbox_events ORDER BY id")
        recorded[service] = rows
    topics = sorted({row.topic for rows in recorded.values() for row in rows})
    records = await read_topics(kafka_bootstrap, [namespace + topic for topic in topics])
    assert [i for i, n in Counter(r["id"] for r in records).items() if n > 1] == []
    assert sorted(r["id"] for r in records) == sorted(row.event_id for rows in recorded.values() for row in rows)
    on_kafka: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r["topic"], r["partition"], r["offset"])):
        on_kafka[(record["topic"], record["subject"])].append(record)
    for (topic, _subject), events in on_kafka.items():
        assert len({e["partition"] for e in events}) == 1, f"{topic}: a case's events on one partition"
    for service, rows in recorded.items():
        if service == "notifications":
            # Its sender replicas send a case's emails side by side: those events have no order between them.
            continue
        by_subject: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in rows:
            by_subject[(namespace + row.topic, row.subject)].append(row.event_id)
        for key, event_ids in by_subject.items():
            assert [e["id"] for e in on_kafka[key]] == event_ids, f"{key}: published out of order"
    for case in mediations:  # the path's causal order, case by case
        meetings_topic = [e["type"] for e in on_kafka[(namespace + "scheduling.meetings", case["id"])]]
        assert meetings_topic.index("meeting.scheduled.v1") < meetings_topic.index("meeting.concluded.v1")
    for case in cases:
        certificates_topic = [e["type"] for e in on_kafka[(namespace + "certificates.certificates", case["id"])]]
        assert certificates_topic.count("certificate.issued.v1") == 1
    assert case_ids <= {r["subject"] for r in records}
