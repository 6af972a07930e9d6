"""The one Kafka producer a service uses: idempotent, ``acks=all``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, OutOfOrderSequenceNumber
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from shared.kafka.codec import KafkaMessage
from shared.logging import get_logger

log = get_logger(__name__)

#: aiokafka's default, said out loud: no record larger than this is sent (the broker's default limit is 1 MiB too).
MAX_REQUEST_SIZE = 1048576


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
            max_request_size=MAX_REQUEST_SIZE,
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

    @staticmethod
    def refusal(message: KafkaMessage) -> MessageSizeTooLargeError | None:
        """The error the producer would raise for this record before sending it (too large), if any."""
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(message.key, message.value, message.headers)
        if size > MAX_REQUEST_SIZE:
            return MessageSizeTooLargeError(f"the record is {size} bytes, more than {MAX_REQUEST_SIZE}")
        return None

    async def send_each(self, messages: Sequence[KafkaMessage]) -> list[BaseException | None]:
        """Send every message; per message, None once acknowledged or the error that refused that record.

        A record the broker refuses for itself (too large, invalid: ``shared.outage.RECORD_REFUSED``) is the
        caller's to park; any other failure (an outage) is raised, as by ``send_all``.
        """
        from shared.outage import RECORD_REFUSED

        if self._producer is None:
            raise RuntimeError("producer not started")
        outcomes: list[BaseException | None] = [None] * len(messages)
        try:
            pending: list[tuple[int, asyncio.Future[object]]] = []
            for index, m in enumerate(messages):
                try:
                    pending.append((index, await self._producer.send(m.topic, m.value, key=m.key, headers=m.headers)))
                except RECORD_REFUSED as exc:
                    outcomes[index] = exc
            results = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
        except OutOfOrderSequenceNumber:
            log.warning("kafka.producer.recreate", reason="OutOfOrderSequenceNumber")
            await self._recreate()
            raise
        for (index, _), result in zip(pending, results, strict=True):
            if isinstance(result, RECORD_REFUSED):
                outcomes[index] = result
            elif isinstance(result, OutOfOrderSequenceNumber):
                await self._recreate()
                raise result
            elif isinstance(result, BaseException):
                raise result
        return outcomes

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
