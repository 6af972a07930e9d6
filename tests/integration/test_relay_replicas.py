"""Two outbox relays on one PostgreSQL database (two replicas of a service) publish each event once, and each
case's events in the order they were recorded."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import NOVEMBER_2026, eventually

from shared import outbox
from shared.db import create_engine, create_sessionmaker
from shared.events import CaseSubmittedV1, Party
from shared.kafka import codec
from shared.kafka.admin import ensure_topics
from shared.kafka.producer import Producer
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure

pytestmark = pytest.mark.clock(NOVEMBER_2026)

CASES = 3
EVENTS_PER_CASE = 60
BATCH = 10  # small batches: the relays take turns many times


def event(case_id: str, n: int) -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=case_id, reference=f"SEND-{n:08d}", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20),
        requester=Party(role="parent", name="Alex Example", email="alex@example.org"),
    )


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """One engine per replica, as two processes would have."""
    engines = [create_engine(database_url), create_engine(database_url)]
    async with engines[0].begin() as connection:
        for model in (OutboxEvent, ItemFailure):  # the relay skips the rows it parked (shared.poison)
            await connection.run_sync(model.__table__.create)  # type: ignore[attr-defined]
    yield engines
    for engine in engines:
        await engine.dispose()


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine, source="/send-mediation/test", wakers={})


async def relay_until_done(sessionmaker: async_sessionmaker[AsyncSession], producer: Producer,
                           namespace: str) -> None:
    while True:
        await outbox.publish_pending(sessionmaker, producer, service="plumbing", namespace=namespace, batch=BATCH)
        async with sessionmaker() as session:
            if await outbox.backlog(session) == 0:
                return
        await asyncio.sleep(0)


async def read_all(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[Any] = []
    try:
        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
            return len(records) >= count

        await eventually(enough, timeout=60, what=f"{count} records on {topic}")
        while batches := await consumer.getmany(timeout_ms=1000):  # and any duplicate behind them
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def test_two_relays_on_one_database_publish_each_event_once_and_each_cases_events_in_order(
        engines, kafka_bootstrap, namespace):
    topic = f"{namespace}{CaseSubmittedV1.topic}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=3)
    case_ids = [str(uuid.uuid4()) for _ in range(CASES)]
    async with sessions(engines[0])() as session:  # interleaved, as concurrent requests would record them
        for n in range(EVENTS_PER_CASE):
            for case_id in case_ids:
                outbox.add_event(session, event(case_id, n), subject=case_id)
        await session.commit()
    producers = [Producer(kafka_bootstrap, client_id=f"replica-{r}") for r in (1, 2)]
    for producer in producers:
        await producer.start()
    try:
        await asyncio.gather(*(relay_until_done(sessions(engine), producer, namespace)
                               for engine, producer in zip(engines, producers, strict=True)))
    finally:
        for producer in producers:
            await producer.stop()

    async with sessions(engines[0])() as session:
        recorded = (await session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id)))).all()
    records = await read_all(kafka_bootstrap, topic, CASES * EVENTS_PER_CASE)
    published: dict[str, list[str]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        headers = codec.header_map(record.headers)
        published[headers["ce_subject"]].append(headers["ce_id"])
    expected: dict[str, list[str]] = defaultdict(list)
    for row in recorded:
        expected[row.subject].append(row.event_id)
    assert all(row.published_at is not None for row in recorded)
    assert dict(published) == dict(expected)  # each once, and in the order recorded
