"""Transactional outbox: the event is recorded in the same transaction as the change.

A relay publishes it promptly after commit (woken by the commit) and marks it
published; a poll is the safety net for wake-ups lost to a crash.

With several replicas on one PostgreSQL database, one relay publishes at a time: each batch runs under a
transaction-scoped advisory lock (``pg_try_advisory_xact_lock``), and a relay that does not get it publishes
nothing this round. Row locks alone (``FOR UPDATE SKIP LOCKED``) would let a second relay skip the first one's
batch and publish a case's later event before its earlier one.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock
from shared.db import try_advisory_xact_lock, wake_after_commit
from shared.events.envelope import Envelope, EventData
from shared.events.registry import model_for
from shared.kafka.codec import KafkaMessage, encode
from shared.kafka.producer import Producer
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
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
    envelope = Envelope[model_for(row.type)].model_validate(raw)  # type: ignore[misc]
    return encode(envelope, namespace + row.topic)


async def publish_pending(
    sessionmaker: async_sessionmaker[AsyncSession], producer: Producer, *, service: str, namespace: str = "",
    batch: int = 200,
) -> bool:
    """Publish one batch of unpublished events in order; True if more may be waiting.

    In order means in ``id`` order, across replicas too: only the relay holding the database's relay lock
    publishes, so a case's events leave in the order they were recorded (and the key keeps them on one
    partition). A relay that finds the lock taken waits a moment and answers True, so that it tries again soon:
    what woke it may have committed after the holder read its batch.
    """
    async with sessionmaker() as session:
        if not await try_advisory_xact_lock(session, RELAY_LOCK):
            await session.rollback()  # hold no snapshot or connection while waiting
            await asyncio.sleep(LOCK_RETRY_SECONDS)
            return True
        rows = (
            await session.exec(
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.id))
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            OUTBOX_BACKLOG.labels(service).set(0)
            return False
        await producer.send_all([_to_message(row, namespace) for row in rows])
        now = clock.now()
        for row in rows:
            row.published_at = now
            EVENTS_PUBLISHED.labels(service, row.topic).inc()
        await session.commit()
        log.debug("outbox.published", count=len(rows))
        return len(rows) == batch


async def backlog(session: AsyncSession) -> int:
    result = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
    )
    return int(result or 0)
