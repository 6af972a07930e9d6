"""Outbox, inbox and the consumer loop against real Kafka and PostgreSQL (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import NOVEMBER_2026, eventually, serve

from shared import outbox
from shared.db import create_engine, create_sessionmaker
from shared.deadletters import DeadLetter
from shared.events import CaseSubmittedV1, Envelope, Party
from shared.inbox import InboxEvent
from shared.kafka import codec
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import EventConsumer
from shared.kafka.producer import Producer
from shared.localinfra.postgres import PostgresCluster
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure
from shared.runtime import ServiceRuntime, build_app
from shared.settings import ServiceSettings
from shared.worker import Worker

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

SERVICE = "plumbing"


class HandledCase(SQLModel, table=True):
    """What the test handler writes: one row per handled event."""

    __tablename__ = "test_handled_cases"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str
    event_id: str


TABLES = (OutboxEvent, InboxEvent, DeadLetter, ItemFailure, HandledCase)


def case_submitted(case_id: str | None = None) -> CaseSubmittedV1:
    case_id = case_id or str(uuid.uuid4())
    return CaseSubmittedV1(
        case_id=case_id, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20),
        requester=Party(role="parent", name="Alex Example", email="alex@example.org"),
    )


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        for model in TABLES:
            await connection.run_sync(model.__table__.create)  # type: ignore[attr-defined]
    wakers: dict[str, Any] = {}
    yield create_sessionmaker(engine, source="/send-mediation/test", wakers=wakers)
    await engine.dispose()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[Producer]:
    producer = Producer(kafka_bootstrap, client_id="test")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def topics(kafka_bootstrap: str, namespace: str) -> dict[str, str]:
    names = {"cases": f"{namespace}intake.cases", "dlt": f"{namespace}{SERVICE}.dlt"}
    await ensure_topics(kafka_bootstrap, names.values(), partitions=3)
    return names


async def read_topic(bootstrap: str, topic: str, *, count: int, timeout: float = 30.0) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[Any] = []
    try:
        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
            return len(records) >= count

        await eventually(enough, timeout=timeout, what=f"{count} records on {topic}")
    finally:
        await consumer.stop()
    return records


async def handled(sessionmaker: async_sessionmaker[AsyncSession]) -> list[HandledCase]:
    async with sessionmaker() as session:
        return list((await session.exec(select(HandledCase))).all())


def consumer_for(kafka_bootstrap: str, namespace: str, sessionmaker: async_sessionmaker[AsyncSession],
                 producer: Producer, handler: Any, **options: Any) -> EventConsumer:
    return EventConsumer(service=SERVICE, bootstrap_servers=kafka_bootstrap, sessionmaker=sessionmaker,
                         subscriptions={CaseSubmittedV1: [handler]}, producer=producer, namespace=namespace,
                         retry_backoff=0.01, **options)


async def record_case(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
    session.add(HandledCase(case_id=event.subject, event_id=event.id))


@contextlib.asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[None]:
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def test_an_event_recorded_in_a_committed_transaction_is_published_as_a_cloudevent(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    data = case_submitted()
    async with sessionmaker() as session:
        envelope = outbox.add_event(session, data, subject=data.case_id)
        await session.commit()

    await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace)

    [record] = await read_topic(kafka_bootstrap, topics["cases"], count=1)
    headers = codec.header_map(record.headers)
    assert record.key == data.case_id.encode()
    assert headers["ce_id"] == envelope.id
    assert headers["ce_type"] == "case.submitted.v1"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_subject"] == data.case_id
    assert codec.decode(record.headers, record.value).data == data
    async with sessionmaker() as session:
        [row] = (await session.exec(select(OutboxEvent))).all()
        assert row.published_at is not None


async def test_an_event_in_a_rolled_back_transaction_is_never_published(sessionmaker, producer, namespace):
    async with sessionmaker() as session:
        outbox.add_event(session, case_submitted(), subject="case-1")
        await session.rollback()

    more = await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace)

    assert more is False
    async with sessionmaker() as session:
        assert (await session.exec(select(func.count()).select_from(OutboxEvent))).one() == 0


async def test_an_event_that_failed_before_and_is_then_published_leaves_no_failure_behind(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    data = case_submitted()
    async with sessionmaker() as session:
        outbox.add_event(session, data, subject=data.case_id)
        await session.commit()
    async with sessionmaker() as session:
        row = (await session.exec(select(OutboxEvent))).one()
        good, row.envelope = row.envelope, "{not json"
        session.add(row)
        await session.commit()

    await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace, retry_seconds=0)
    async with sessionmaker() as session:
        [failure] = (await session.exec(select(ItemFailure))).all()
        assert (failure.worker, failure.tries, failure.parked_at) == (outbox.RELAY, 1, None)
        row = (await session.exec(select(OutboxEvent))).one()
        row.envelope = good  # mended before its tries ran out
        session.add(row)
        await session.commit()
    await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace, retry_seconds=0)

    [record] = await read_topic(kafka_bootstrap, topics["cases"], count=1)
    assert record.key == data.case_id.encode()
    async with sessionmaker() as session:
        assert (await session.exec(select(ItemFailure))).all() == []  # its failure no longer counts
        assert (await session.exec(select(OutboxEvent))).one().published_at is not None


async def test_the_relay_publishes_when_woken_by_the_commit_not_by_its_poll(
        database_url, producer, topics, kafka_bootstrap, namespace):
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        for model in (OutboxEvent, ItemFailure):  # the relay skips the rows it parked (shared.poison)
            await connection.run_sync(model.__table__.create)  # type: ignore[attr-defined]
    wakers: dict[str, Any] = {}
    sessions = create_sessionmaker(engine, source="/send-mediation/test", wakers=wakers)
    relay = Worker(outbox.RELAY, lambda: outbox.publish_pending(sessions, producer, service=SERVICE,
                                                                namespace=namespace),
                   service=SERVICE, poll_interval=3600)  # the poll alone would take an hour
    wakers[outbox.RELAY] = relay.wake
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # the relay has polled once and now sleeps
        data = case_submitted()
        async with sessions() as session:
            outbox.add_event(session, data, subject=data.case_id)
            await session.commit()

        [record] = await read_topic(kafka_bootstrap, topics["cases"], count=1, timeout=60)
    finally:
        task.cancel()
        await engine.dispose()

    assert record.key == data.case_id.encode()


async def test_a_redelivered_event_is_handled_once(sessionmaker, producer, topics, kafka_bootstrap, namespace):
    data = case_submitted()
    envelope = Envelope[CaseSubmittedV1](source="/test", type=data.type, subject=data.case_id, data=data)
    message = codec.encode(envelope, topics["cases"])
    raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await raw.start()
    for _ in range(3):  # a producer retry, a relay re-publish after a crash, ...
        await raw.send_and_wait(message.topic, message.value, key=message.key, headers=message.headers)
    await raw.stop()
    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, record_case)

    async with running(consumer):
        await eventually(lambda: handled(sessionmaker), what="the event handled")
        await asyncio.sleep(2)  # give the copies every chance to be handled again

    [row] = await handled(sessionmaker)
    assert row.event_id == envelope.id


async def committed_offsets(bootstrap: str, group: str, topic: str) -> int:
    """The offsets the group has committed on ``topic``, summed over its partitions."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        return sum([await reader.committed(TopicPartition(topic, p)) or 0 for p in range(3)])  # topics: 3 each
    finally:
        await reader.stop()


async def test_the_offsets_of_the_events_handled_are_committed_when_the_consumer_stops(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    case_ids = await publish_cases(kafka_bootstrap, topics["cases"], 5)
    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, record_case)

    async with running(consumer):
        await eventually(lambda: _count_at_least(sessionmaker, 5), what="the events handled")
    # Stopped within the commit interval of the last event: its offset is committed on the way out, so the
    # group's next member starts after it rather than reading the events again.

    assert await committed_offsets(kafka_bootstrap, namespace + SERVICE, topics["cases"]) == len(case_ids)


async def _count_at_least(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> bool:
    return len(await handled(sessionmaker)) >= count


async def test_a_poison_event_goes_to_the_dead_letter_topic_and_the_consumer_moves_on(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    data = case_submitted()
    good = codec.encode(Envelope[CaseSubmittedV1](source="/test", type=data.type, subject=data.case_id, data=data),
                        topics["cases"])
    raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await raw.start()
    poison_headers = [("ce_id", b"x1"), ("ce_source", b"/test"), ("ce_specversion", b"1.0"),
                      ("ce_type", b"case.submitted.v1"), ("ce_subject", data.case_id.encode())]
    await raw.send_and_wait(topics["cases"], b"{not json", key=data.case_id.encode(), headers=poison_headers)
    await raw.send_and_wait(good.topic, good.value, key=good.key, headers=good.headers)
    await raw.stop()
    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, record_case)

    async with running(consumer):
        [row] = await eventually(lambda: handled(sessionmaker), what="the good event handled")

    assert row.case_id == data.case_id
    [dead] = await read_topic(kafka_bootstrap, topics["dlt"], count=1)
    headers = codec.header_map(dead.headers)
    assert dead.value == b"{not json"
    assert headers["dlt_reason"] == "undecodable"
    assert headers["dlt_original_topic"] == topics["cases"]
    assert "not JSON" in headers["dlt_error"]


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries_without_half_writes(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    attempts = []

    async def write_then_fail(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        attempts.append(event.id)
        session.add(HandledCase(case_id=event.subject, event_id=event.id))
        raise ValueError("the handler has a bug")

    data = case_submitted()
    async with sessionmaker() as session:
        outbox.add_event(session, data, subject=data.case_id)
        await session.commit()
    await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace)
    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, write_then_fail, max_attempts=3)

    async with running(consumer):
        [dead] = await read_topic(kafka_bootstrap, topics["dlt"], count=1)

    assert len(attempts) == 3
    assert codec.header_map(dead.headers)["dlt_error"] == "ValueError"
    assert await handled(sessionmaker) == []
    async with sessionmaker() as session:
        assert (await session.exec(select(func.count()).select_from(InboxEvent))).one() == 0


async def test_a_handler_that_fails_once_is_retried_and_its_event_handled_once(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    failures = [RuntimeError("a passing glitch")]

    async def flaky(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        if failures:
            raise failures.pop()
        await record_case(event, session)

    data = case_submitted()
    async with sessionmaker() as session:
        outbox.add_event(session, data, subject=data.case_id)
        await session.commit()
    await outbox.publish_pending(sessionmaker, producer, service=SERVICE, namespace=namespace)
    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, flaky)

    async with running(consumer):
        [row] = await eventually(lambda: handled(sessionmaker), what="the event handled")

    assert row.case_id == data.case_id


# Outages: the database unavailable for longer than the retry budget is not a failure of the events.


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, so that it can be taken down without disturbing the others."""
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def publish_cases(bootstrap: str, topic: str, count: int) -> list[str]:
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    case_ids = []
    try:
        for _ in range(count):
            data = case_submitted()
            message = codec.encode(Envelope[CaseSubmittedV1](source="/test", type=data.type, subject=data.case_id,
                                                             data=data), topic)
            await raw.send_and_wait(message.topic, message.value, key=message.key, headers=message.headers)
            case_ids.append(data.case_id)
    finally:
        await raw.stop()
    return case_ids


async def publish_to_partitions(bootstrap: str, topic: str, partitions: list[int]) -> list[str]:
    """One case's event on each partition given, in that order; the case ids, in the same order."""
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    case_ids = []
    try:
        for partition in partitions:
            data = case_submitted()
            message = codec.encode(Envelope[CaseSubmittedV1](source="/test", type=data.type, subject=data.case_id,
                                                             data=data), topic)
            await raw.send_and_wait(message.topic, message.value, key=message.key, headers=message.headers,
                                    partition=partition)
            case_ids.append(data.case_id)
    finally:
        await raw.stop()
    return case_ids


async def test_partitions_handled_side_by_side_a_slow_handler_holds_back_only_its_own_partition_in_order(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    slow, after_slow, other, third = await publish_to_partitions(kafka_bootstrap, topics["cases"], [0, 0, 1, 2])
    release = asyncio.Event()

    async def record_slowly(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        if event.subject == slow:
            await release.wait()
        await record_case(event, session)

    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, record_slowly,
                            concurrent_partitions=True)
    async with running(consumer):
        try:
            await eventually(lambda: _count_at_least(sessionmaker, 2), timeout=30, what="the other partitions handled")
            assert sorted(row.case_id for row in await handled(sessionmaker)) == sorted([other, third])
        finally:
            release.set()
        await eventually(lambda: _count_at_least(sessionmaker, 4), what="the slow partition handled")

    rows = await handled(sessionmaker)
    order = [row.case_id for row in sorted(rows, key=lambda row: row.id or 0)]
    assert order.index(slow) < order.index(after_slow)  # one partition's events one after another


async def test_events_of_one_partition_that_arrive_together_are_handled_in_one_transaction_in_their_order(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    case_ids = await publish_to_partitions(kafka_bootstrap, topics["cases"], [0] * 12)  # a backlog, waiting
    transactions: dict[str, int] = {}

    async def record_with_transaction(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        transactions[event.subject] = (await session.exec(text("SELECT txid_current()"))).one()[0]
        await record_case(event, session)

    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, record_with_transaction)
    async with running(consumer):
        await eventually(lambda: _count_at_least(sessionmaker, 12), what="the backlog handled")

    rows = sorted(await handled(sessionmaker), key=lambda row: row.id or 0)
    assert [row.case_id for row in rows] == case_ids  # in the partition's order, each once
    assert len(set(transactions.values())) < len(case_ids)  # not a transaction each
    async with sessionmaker() as session:
        assert (await session.exec(select(func.count()).select_from(InboxEvent))).one() == len(case_ids)


async def test_a_bad_event_among_events_handled_together_is_dead_lettered_after_its_tries_and_the_others_handled_once(
        sessionmaker, producer, topics, kafka_bootstrap, namespace):
    case_ids = await publish_to_partitions(kafka_bootstrap, topics["cases"], [0] * 6)
    bad = case_ids[2]
    attempts: list[str] = []

    async def fail_on_the_bad_one(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        attempts.append(event.subject)
        await record_case(event, session)  # written, then rolled back with the transaction
        if event.subject == bad:
            raise ValueError("the handler has a bug")

    consumer = consumer_for(kafka_bootstrap, namespace, sessionmaker, producer, fail_on_the_bad_one, max_attempts=3)
    async with running(consumer):
        [dead] = await read_topic(kafka_bootstrap, topics["dlt"], count=1)
        await eventually(lambda: _count_at_least(sessionmaker, 5), what="the others handled")

    assert codec.header_map(dead.headers)["ce_subject"] == bad
    assert attempts.count(bad) == 3  # its bounded tries, the one beside the others included
    rows = sorted(await handled(sessionmaker), key=lambda row: row.id or 0)
    assert [row.case_id for row in rows] == [case for case in case_ids if case != bad]  # in order, each once


async def refusal(url: str) -> str:
    """How the server answers a new connection right now (its SQLSTATE), or "accepted"."""
    try:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    except asyncpg.PostgresError as exc:
        return str(exc.sqlstate)
    except OSError:
        return "refused"
    await connection.close()
    return "accepted"


async def no_dead_letters(bootstrap: str, topic: str) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()
    assert [record for records in batch.values() for record in records] == []


@contextlib.asynccontextmanager
async def held_in_recovery(cluster: PostgresCluster, url: str) -> AsyncIterator[None]:
    await asyncio.to_thread(cluster.hold_in_recovery)
    assert await eventually(lambda: refusal(url), what="an answer from the standby") == "57P03"
    yield
    await asyncio.to_thread(cluster.promote)


@contextlib.asynccontextmanager
async def shutting_down(cluster: PostgresCluster, url: str) -> AsyncIterator[None]:
    """A smart shutdown held open by one session: the others are terminated (57P01) and new ones refused
    (57P03, "shutting down"); then the server stops (connection refused) and starts again."""
    blocker = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await asyncio.to_thread(cluster.begin_smart_shutdown)
    await blocker.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")
    assert await refusal(url) == "57P03"
    yield
    await blocker.close()
    await asyncio.to_thread(cluster.wait_stopped)
    assert await refusal(url) == "refused"
    await asyncio.sleep(1)
    await asyncio.to_thread(cluster.start_again)


@pytest.mark.parametrize(("outage", "side_by_side"), [(held_in_recovery, False), (shutting_down, False),
                                                        (held_in_recovery, True)],
                         ids=["in_recovery", "shutting_down", "in_recovery_partitions_side_by_side"])
async def test_events_arriving_while_the_database_is_unavailable_are_all_handled_and_none_dead_lettered(
        outage, side_by_side, private_postgres, producer, topics, kafka_bootstrap, namespace):
    url = private_postgres.create_database("outage")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for model in TABLES:
            await connection.run_sync(model.__table__.create)  # type: ignore[attr-defined]
    sessions = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
    # A retry budget of a few milliseconds: any outage outlasts it.
    consumer = consumer_for(kafka_bootstrap, namespace, sessions, producer, record_case, max_attempts=2,
                            concurrent_partitions=side_by_side)

    async def handled_at_least(count: int) -> bool:
        return len(await handled(sessions)) >= count

    try:
        async with running(consumer):
            before = await publish_cases(kafka_bootstrap, topics["cases"], 3)
            await eventually(lambda: handled_at_least(3), what="the first cases handled")
            async with outage(private_postgres, url):
                during = await publish_cases(kafka_bootstrap, topics["cases"], 6)
                await asyncio.sleep(4)  # far beyond the retry budget, with events waiting
            await eventually(lambda: handled_at_least(9), timeout=60, what="every case handled")
        assert sorted(row.case_id for row in await handled(sessions)) == sorted(before + during)
    finally:
        await engine.dispose()
    await no_dead_letters(kafka_bootstrap, topics["dlt"])


# Dead letters ops can act on: listed without their data, re-driven through the handler path, discarded.

OPS = {"Authorization": "Bearer dev-only-ops"}


async def test_a_dead_letter_is_listed_without_its_data_and_redriven_through_the_ops_api(
        database_url, topics, kafka_bootstrap, namespace):
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        for model in TABLES:
            await connection.run_sync(model.__table__.create)  # type: ignore[attr-defined]
    await engine.dispose()
    broken = [True]

    async def record_unless_broken(event: Envelope[CaseSubmittedV1], session: AsyncSession) -> None:
        if broken:  # a bug whose message carries personal data, which must reach no one
            raise ValueError(f"cannot handle the case of {event.data.requester.name}")
        await record_case(event, session)

    settings = ServiceSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                               kafka_namespace=namespace, environment="test", migrate_on_start=False,
                               run_workers=False, consumer_max_attempts=2, consumer_retry_backoff_seconds=0.01)
    runtime = ServiceRuntime(settings=settings, service=SERVICE, migrations="",
                             subscriptions={CaseSubmittedV1: [record_unless_broken]})
    [case_id] = await publish_cases(kafka_bootstrap, topics["cases"], 1)
    raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await raw.start()
    await raw.send_and_wait(topics["cases"], b"{}", key=b"case-x", headers=[
        ("ce_id", b"u1"), ("ce_source", b"/test"), ("ce_specversion", b"1.0"), ("ce_type", b"case.teleported.v9"),
        ("ce_subject", b"case-x")])
    await raw.stop()

    async with serve(build_app(runtime, title="plumbing", description="test")) as client:
        async def two_dead() -> dict[str, Any] | None:
            response = await client.get("/v1/ops/dead-letters", headers=OPS)
            assert response.status_code == 200, response.text
            page: dict[str, Any] = response.json()
            return page if page["total"] == 2 else None

        page = await eventually(two_dead, what="both records dead-lettered")
        listed = {item["reason"]: item for item in page["items"]}
        failed, unknown = listed["handler_failed"], listed["unknown_type"]
        assert failed["error"].startswith("ValueError")
        assert (failed["event_type"], failed["case_id"]) == ("case.submitted.v1", case_id)
        assert failed["original"]["topic"] == topics["cases"] and failed["age_seconds"] >= 0
        assert "Alex" not in str(page) and "alex@example.org" not in str(page)
        assert unknown["event_type"] == "case.teleported.v9"
        metrics = (await client.get("/metrics")).text
        assert f'events_unknown_type_total{{service="{SERVICE}",type="case.teleported.v9"}}' in metrics
        assert (await client.get("/v1/ops/dead-letters", headers={"Authorization": "Bearer nobody"})).status_code == 401

        broken.clear()  # the bug is fixed and deployed
        redriven = await client.post(f"/v1/ops/dead-letters/{failed['id']}/redrive", headers=OPS)
        again = await client.post(f"/v1/ops/dead-letters/{failed['id']}/redrive", headers=OPS)
        still_unknown = await client.post(f"/v1/ops/dead-letters/{unknown['id']}/redrive", headers=OPS)
        discarded = await client.post(f"/v1/ops/dead-letters/{unknown['id']}/discard", headers=OPS,
                                      json={"reason": "a test producer's typo"})
        waiting = (await client.get("/v1/ops/dead-letters", headers=OPS)).json()
        rows = await handled(runtime.sessionmaker)

    assert redriven.status_code == 200 and redriven.json()["outcome"] == "handled"
    assert again.status_code == 409
    assert still_unknown.json()["outcome"] == "failed"
    assert discarded.json()["status"] == "discarded" and discarded.json()["resolution"] == "a test producer's typo"
    assert waiting["total"] == 0
    assert [row.case_id for row in rows] == [case_id]
