"""Transactional outbox: the event is recorded in the same transaction as the change.

A relay publishes it promptly after commit (woken by the commit) and marks it
published; a poll is the safety net for wake-ups lost to a crash.

With several replicas on one PostgreSQL database, one relay publishes at a time: each batch runs under a
transaction-scoped advisory lock (``pg_try_advisory_xact_lock``), and a relay that does not get it publishes
nothing this round. Row locks alone (``FOR UPDATE SKIP LOCKED``) would let a second relay skip the first one's
batch and publish a case's later event before its earlier one.

The relay publishes around a bad row (issue 11, ``shared.poison``): a row that
cannot be encoded is tried again later and parked after bounded tries; one the
broker can never take (larger than the producer's ``max_request_size``, refused
as too large) is parked at once. The rest of the batch and later rows flow,
except the later events of the same case (subject): they are held behind the
failing one, so that a case's events are never published out of order. A
discarded row no longer holds its case.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, String, bindparam, cast, exists, func, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock, poison
from shared.db import try_advisory_xact_lock, wake_after_commit
from shared.deadletters import DeadLetterReason
from shared.events.envelope import Envelope, EventData
from shared.events.registry import model_for
from shared.kafka.codec import KafkaMessage, encode
from shared.kafka.producer import Producer
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from shared.outage import is_outage
from shared.poison import ItemFailure, ParkNow
from shared.tracing import current_traceparent

log = get_logger(__name__)

RELAY = "outbox_relay"

#: The advisory lock (``shared.db``) one relay holds while it publishes a batch.
RELAY_LOCK = "shared.outbox.relay"
#: How long a relay that found another one publishing waits before it tries again.
LOCK_RETRY_SECONDS = 0.05


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    topic: str = Field(max_length=200)
    type: str = Field(max_length=200)
    subject: str = Field(max_length=64)
    envelope: str
    created_at: datetime = Field(default_factory=clock.now)
    published_at: datetime | None = Field(default=None, index=True)


def add_event(session: AsyncSession, data: EventData, *, subject: str, **attrs: Any) -> Envelope[Any]:
    """Record ``data`` as an event about ``subject`` (the case id) in this transaction."""
    attrs.setdefault("traceparent", current_traceparent())  # the trace continues in whoever consumes it
    envelope = Envelope.wrap(data, source=session.info["event_source"], subject=subject, **attrs)
    session.add(
        OutboxEvent(
            event_id=envelope.id,
            topic=data.topic,
            type=data.type,
            subject=subject,
            envelope=envelope.model_dump_json(),
        )
    )
    wake_after_commit(session, RELAY)
    return envelope


def _to_message(row: OutboxEvent, namespace: str) -> KafkaMessage:
    raw = json.loads(row.envelope)
    envelope = Envelope.of(model_for(row.type)).model_validate(raw)
    return encode(envelope, namespace + row.topic)


def _failed_before() -> Any:
    """A column: the row has a failure record (one to forget once it is published)."""
    return exists().where(col(ItemFailure.worker) == RELAY,
                          col(ItemFailure.item_key) == cast(OutboxEvent.id, String)).label("failed_before")


@cache
def _claim_query(batch: int) -> Any:
    """The relay's claim, built once (``now`` is bound at each call): building it cost as much as running it."""
    now: BindParameter[datetime] = bindparam("now")
    return (
        select(OutboxEvent, _failed_before())
        .where(col(OutboxEvent.published_at).is_(None), _free(now),
               poison.available(RELAY, OutboxEvent.id, now))  # a discarded row stays parked
        .order_by(col(OutboxEvent.id))
        .limit(batch)
        .with_for_update(skip_locked=True, of=OutboxEvent)
    )


def _free(now: datetime | ColumnElement[Any]) -> Any:
    """Neither failing nor parked itself, nor held behind a failing or parked (not discarded) event of its case."""
    return ~exists().where(
        col(ItemFailure.worker) == RELAY, col(ItemFailure.subject) == col(OutboxEvent.subject),
        col(ItemFailure.discarded_at).is_(None),
        or_(col(ItemFailure.parked_at).is_not(None), col(ItemFailure.retry_at) > now,
            col(ItemFailure.item_key) != cast(OutboxEvent.id, String)))


async def publish_pending(
    sessionmaker: async_sessionmaker[AsyncSession], producer: Producer, *, service: str, namespace: str = "",
    batch: int = 200, max_tries: int = 5, retry_seconds: float = 5.0,
) -> bool:
    """Publish one batch of unpublished events in order, around bad rows; True if more may be waiting.

    In order means in ``id`` order, across replicas too: only the relay holding the database's relay lock
    publishes, so a case's events leave in the order they were recorded (and the key keeps them on one
    partition). A relay that finds the lock taken waits a moment and answers True, so that it tries again soon:
    what woke it may have committed after the holder read its batch. A row that fails holds its case's later
    rows (``_free``) until it is published, or discarded by ops.
    """
    failed: list[tuple[OutboxEvent, BaseException]] = []
    async with sessionmaker() as session:
        if not await try_advisory_xact_lock(session, RELAY_LOCK):
            await session.rollback()  # hold no snapshot or connection while waiting
            await asyncio.sleep(LOCK_RETRY_SECONDS)
            return True
        claimed = (await session.exec(_claim_query(batch), params={"now": clock.now()})).all()
        if not claimed:
            OUTBOX_BACKLOG.labels(service).set(0)
            return False
        rows = [row for row, _ in claimed]
        failed_before = {row.id for row, failed in claimed if failed}
        held: set[str] = set()  # cases with a failing event in this batch: their later events wait behind it
        sending: list[tuple[OutboxEvent, KafkaMessage]] = []
        for row in rows:
            if row.subject in held:
                continue
            try:
                message = _to_message(row, namespace)
                refused = producer.refusal(message)
                if refused is not None:
                    raise ParkNow(DeadLetterReason.too_large, f"{type(refused).__name__}: {refused}")
            except Exception as exc:
                if is_outage(exc):
                    raise
                failed.append((row, exc))
                held.add(row.subject)
                continue
            sending.append((row, message))
        outcomes = await producer.send_each([message for _, message in sending])
        published: list[int] = []
        for (row, _), refusal in zip(sending, outcomes, strict=True):
            if refusal is not None:  # refused by the broker itself: later events of its case may have gone
                failed.append((row, ParkNow(DeadLetterReason.too_large, type(refusal).__name__)))
                continue
            assert row.id is not None
            published.append(row.id)
            EVENTS_PUBLISHED.labels(service, row.topic).inc()
        if published:
            await session.exec(
                update(OutboxEvent).where(col(OutboxEvent.id).in_(published)).values(published_at=clock.now()))
        # Only rows that failed before have failures to forget: no DELETE at all in the common case.
        await poison.forget(session, RELAY, *(str(id_) for id_ in published if id_ in failed_before))
        await session.commit()
        log.debug("outbox.published", count=len(rows) - len(failed))
    for row, error in failed:
        await poison.record_failure(
            sessionmaker, service=service, worker=RELAY, item_key=str(row.id), subject=row.subject,
            table=OutboxEvent.__tablename__, item_type=row.type, exc=error, max_tries=max_tries,
            retry_base_seconds=retry_seconds, reason=DeadLetterReason.unencodable)
    return len(rows) == batch


async def backlog(session: AsyncSession) -> int:
    result = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
    )
    return int(result or 0)
