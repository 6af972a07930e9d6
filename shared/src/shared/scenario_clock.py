"""Scenario clocks: a named clock that an operator moves, for development and staging only.

Like a payment provider's test clocks: a council rehearses a case across its
30 days in minutes. Every service of a deployment that follows the clock NAME
(``<PREFIX>SCENARIO_CLOCK=NAME``) reads the compacted topic ``ops.clocks``; the
last record keyed NAME holds the clock's offset from real time. Moving the
clock through any service's ``POST /v1/ops/clock`` writes a new record, which
every follower (the writer included) applies, and each service's workers are
woken to re-check what fell due: reminders, the day-30 watch, certificate due
dates. An offset, not an instant, is recorded, so followers that started at
different moments agree.

The clock only moves forward: statutory work already done stays done.
Production settings refuse a scenario clock (``ServiceSettings``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import BaseModel, ConfigDict

from shared import clock
from shared.kafka.admin import ensure_topics
from shared.logging import get_logger

log = get_logger(__name__)

TOPIC = "ops.clocks"


class ClockRecord(BaseModel):
    """The state of one scenario clock: real time plus ``offset_seconds``."""

    model_config = ConfigDict(frozen=True)

    name: str
    offset_seconds: float
    set_by: str
    set_at: datetime  # real time of the change, for the audit trail


async def ensure_topic(bootstrap_servers: str, *, namespace: str) -> None:
    await ensure_topics(bootstrap_servers, {namespace + TOPIC}, partitions=1, configs={"cleanup.policy": "compact"})


async def publish(bootstrap_servers: str, *, namespace: str, name: str, offset: timedelta, set_by: str) -> ClockRecord:
    """Record the clock's new offset; every follower applies it."""
    record = ClockRecord(name=name, offset_seconds=offset.total_seconds(), set_by=set_by, set_at=clock.real_now())
    await ensure_topic(bootstrap_servers, namespace=namespace)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(namespace + TOPIC, key=name.encode(), value=record.model_dump_json().encode())
    finally:
        await producer.stop()
    log.info("scenario_clock.moved", clock=name, offset_seconds=record.offset_seconds, set_by=set_by)
    return record


class ScenarioClockFollower:
    """Keeps the process clock at the named scenario clock's offset."""

    def __init__(self, bootstrap_servers: str, *, namespace: str, name: str, target: clock.Clock = clock.CLOCK) -> None:
        self.name = name
        self.topic = namespace + TOPIC
        self.record: ClockRecord | None = None
        self._target = target
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None,
                                          enable_auto_commit=False, auto_offset_reset="earliest",
                                          isolation_level="read_committed", metadata_max_age_ms=15000)

    async def start(self) -> None:
        """Read the topic to its end, so the service starts at the clock's current time."""
        await self._consumer.start()
        partitions = [TopicPartition(self.topic, 0)]  # the topic has one partition: one order for every clock
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        ends = await self._consumer.end_offsets(partitions)
        while not await self._caught_up(ends):
            self._apply(await self._consumer.getmany(timeout_ms=500))
        if self.record is None:
            self._target.reset()
        log.info("scenario_clock.following", clock=self.name, offset_seconds=self._target.offset.total_seconds())

    async def _caught_up(self, ends: dict[TopicPartition, int]) -> bool:
        for partition, end in ends.items():
            if await self._consumer.position(partition) < end:
                return False
        return True

    async def run(self) -> None:
        while True:
            self._apply(await self._consumer.getmany(timeout_ms=1000))

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._consumer.stop()

    def _apply(self, batches: dict[TopicPartition, list[object]]) -> None:
        for messages in batches.values():
            for message in messages:
                if getattr(message, "key", None) != self.name.encode():
                    continue
                try:
                    record = ClockRecord.model_validate_json(getattr(message, "value", b""))
                except ValueError:
                    log.warning("scenario_clock.unreadable_record", clock=self.name)
                    continue
                self.record = record
                if self._target.offset != timedelta(seconds=record.offset_seconds):
                    self._target.set_offset(timedelta(seconds=record.offset_seconds))


async def wait_for_offset(follower: ScenarioClockFollower, offset: timedelta, timeout: float = 10.0) -> bool:
    """Until this process applied ``offset`` (the writer waits for its own change)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if follower.record is not None and abs(follower.record.offset_seconds - offset.total_seconds()) < 1e-6:
            return True
        await asyncio.sleep(0.05)
    return False
