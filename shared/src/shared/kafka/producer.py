"""The one Kafka producer a service uses: idempotent, ``acks=all``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber

from shared.kafka.codec import KafkaMessage
from shared.logging import get_logger

log = get_logger(__name__)


class Producer:
    """Wraps AIOKafkaProducer with the settings aiokafka does not default to.

    aiokafka defaults to ``acks=1`` without idempotence; we ask for both. After
    a broker outage an idempotent producer can stay stuck on
    OutOfOrderSequenceNumber (aiokafka issue 1017): ``send_all`` then
    re-creates the producer and re-raises, and the outbox publishes again.
    """

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    def _create(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        self._producer = self._create()
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def send_all(self, messages: Sequence[KafkaMessage]) -> None:
        """Send every message and wait until the broker acknowledged all of them."""
        if self._producer is None:
            raise RuntimeError("producer not started")
        try:
            futures = [
                await self._producer.send(m.topic, m.value, key=m.key, headers=m.headers)
                for m in messages
            ]
            await asyncio.gather(*futures)
        except OutOfOrderSequenceNumber:
            log.warning("kafka.producer.recreate", reason="OutOfOrderSequenceNumber")
            await self._recreate()
            raise

    async def _recreate(self) -> None:
        async with self._lock:
            old, self._producer = self._producer, None
            if old is not None:
                try:
                    await old.stop()
                except Exception:  # the old producer is broken; we replace it anyway
                    log.exception("kafka.producer.stop_failed")
            await self.start()

    async def ping(self) -> None:
        """Raise if no broker answers a metadata request."""
        if self._producer is None:
            raise RuntimeError("producer not started")
        await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=5)
