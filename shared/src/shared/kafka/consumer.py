"""The consumer loop every service runs.

For each record: decode the CloudEvent, and in one database transaction record
its id in the inbox and run the subscribed handlers; commit the database, and
only then the Kafka offset (the offsets handled are committed together, at
most a second later). A redelivered event finds its id in the inbox and is a
no-op.

- Records of one partition that arrive together (a backlog, a burst) are
  handled in one transaction, up to ``TOGETHER_MAX`` of them, in their order:
  one ``BEGIN`` and ``COMMIT``, one connection and one wake of the outbox relay
  for all of them instead of one each. If any of them fails, the transaction
  is rolled back and the same records are handled again one at a time, each
  in its own transaction with its own retries (the one that failed has used
  one of its tries), so a bad event never holds back or takes down the
  others.

- A record that cannot be decoded, or whose type no model knows, goes straight
  to ``<service>.dlt``.
- A handler failure is retried with backoff; after ``max_attempts`` the event
  goes to the dead-letter topic with the error, and the partition moves on.
- Every dead letter is also kept in the service's ``dead_letters`` table
  (``shared.deadletters``), where the ops API lists, re-drives (``redrive``:
  the same handler path and inbox) and discards it.
- Infrastructure failures (database or broker unreachable, starting up, in
  recovery, shutting down: ``shared.outage``) are retried without limit, with a
  backoff capped at about a second, and never dead-lettered: the consumer seeks
  back and polls again, so it stays in its group (aiokafka issue 848), loses
  nothing and resumes within a second of the dependency returning.
- A service may have the partitions of one topic handled side by side
  (``concurrent_partitions``): they hold other cases, and each partition's
  records are still handled in order. Topics are still handled one after
  another, so two events of one case are never handled at once.
- Offsets are committed only for partitions still assigned, and a
  CommitFailedError after a rebalance is expected (aiokafka issues 929, 933):
  the new owner re-reads from the last commit and the inbox de-duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import deadletters, inbox, tracing
from shared.deadletters import DeadLetter, DeadLetterReason, DeadLetterStatus
from shared.events.envelope import Envelope, EventData
from shared.events.registry import BY_TYPE
from shared.kafka import codec
from shared.kafka.codec import KafkaMessage, PoisonMessage
from shared.kafka.producer import Producer
from shared.logging import bound_contextvars, get_logger
from shared.metrics import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_UNKNOWN_TYPE
from shared.outage import InfrastructureUnavailable, is_outage, sqlstate

log = get_logger(__name__)

#: How long one poll waits when nothing arrives: a record that arrives is returned at once, so this only sets
#: how often an idle consumer loops (and refreshes its lag gauge).
IDLE_WAIT_MS = 5000
#: How often handled offsets are committed to Kafka while records keep arriving (and whenever a poll comes
#: back empty, on a rebalance and on stop). Committing after every record cost a broker round trip each; an
#: event handled but not yet committed when a consumer dies is read again and the inbox makes it a no-op.
COMMIT_INTERVAL_SECONDS = 1.0
#: How long the broker holds a fetch that finds nothing (it answers at once when a record arrives): an idle
#: consumer asks once every two seconds instead of twice a second. A seek (a handler's retry) waits for the
#: fetch in flight, so at most this long, on top of its backoff.
FETCH_MAX_WAIT_MS = 2000
#: At most this many records of one partition in one transaction. More would hold the transaction's locks
#: (a provider's booking lock, the inbox rows) longer for little gain: the round trips saved are per record.
TOGETHER_MAX = 50

Handler = Callable[[Envelope[Any], AsyncSession], Awaitable[None]]
Subscriptions = Mapping[type[EventData], Sequence[Handler]]


def _unavailable(exc: BaseException) -> InfrastructureUnavailable:
    """A dependency is away (``is_outage``): logged, and raised as such, so the records are read again."""
    log.warning("consumer.infrastructure_unavailable", error=describe_error(exc))
    return InfrastructureUnavailable(describe_error(exc))


class TransientError(Exception):
    """Raise from a handler for a failure worth retrying (e.g. a fact not yet known)."""


def dead_letter_topic(service: str) -> str:
    return f"{service}.dlt"


def describe_error(exc: BaseException) -> str:
    """What went wrong, without values that may be personal data: the exception's class, where it was raised
    (module, function, line) and any SQLSTATE; the message only of the errors whose messages we write."""
    if isinstance(exc, ValidationError):
        return f"ValidationError: {codec.describe_validation_error(exc)}"[:1000]
    if isinstance(exc, PoisonMessage | TransientError):
        return f"{type(exc).__name__}: {exc}"[:1000]
    detail = type(exc).__name__
    code = sqlstate(exc)
    if code is not None:
        detail += f" (SQLSTATE {code})"
    frame = _innermost_own_frame(exc)
    if frame is not None:
        detail += f" at {frame}"
    return detail[:1000]


def _innermost_own_frame(exc: BaseException) -> str | None:
    """The deepest frame of the project's own code (not a library's) in the traceback."""
    found: str | None = None
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.split(".")[0] in OWN_PACKAGES and module != __name__:  # this loop is never the culprit
            found = f"{module}:{tb.tb_frame.f_code.co_name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


OWN_PACKAGES = frozenset({"shared", "intake", "scheduling", "certificates", "notifications"})


class RedriveFailed(Exception):
    """A re-driven dead letter failed again; it stays dead, with the new error."""


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, service: str, before_revoke: Callable[[list[TopicPartition]], Awaitable[None]]) -> None:
        self.service = service
        self.partitions: set[TopicPartition] = set()
        self._before_revoke = before_revoke

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._before_revoke(revoked)  # the next owner starts after what this one handled
        self.partitions.difference_update(revoked)
        # Another member reports these partitions now: a stale gauge here would add its lag twice.
        for tp in revoked:
            with contextlib.suppress(KeyError):  # KeyError: never measured here
                CONSUMER_LAG.remove(self.service, tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.partitions.update(assigned)


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        bootstrap_servers: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        subscriptions: Subscriptions,
        producer: Producer,
        max_attempts: int = 5,
        retry_backoff: float = 0.2,
        max_backoff: float = 10.0,
        outage_backoff: float = 1.0,
        namespace: str = "",
        concurrent_partitions: bool = False,
    ) -> None:
        self.service = service
        self._namespace = namespace
        self._bootstrap_servers = bootstrap_servers
        self._sessionmaker = sessionmaker
        self._handlers: dict[str, Sequence[Handler]] = {model.type: handlers for model, handlers in subscriptions.items()}
        self.topics = sorted({namespace + model.topic for model in subscriptions})
        self._producer = producer
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._outage_backoff = outage_backoff
        self._concurrent_partitions = concurrent_partitions
        self._assignment = _Assignment(service, self._commit_handled)
        self._consumer: AIOKafkaConsumer | None = None
        self._handled: dict[TopicPartition, int] = {}  # per partition, the next offset once handled, not committed
        self._committed_at = 0.0

    async def start(self) -> None:
        # aiokafka's defaults are weaker than we need: no auto-commit, read only
        # committed records, and a new group starts from the earliest offset.
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            group_id=self._namespace + self.service,
            client_id=f"{self.service}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=300_000,
            session_timeout_ms=10_000,  # a killed member leaves the group quickly
            heartbeat_interval_ms=3_000,
            metadata_max_age_ms=15_000,  # notice new partitions or topics within seconds, not minutes
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        await self._consumer.start()
        self._consumer.subscribe(self.topics, listener=self._assignment)

    async def stop(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(KafkaError):  # not committed: the next owner re-reads, the inbox de-duplicates
                await self._commit_handled()
            await self._consumer.stop()
            self._consumer = None

    async def run(self) -> None:
        assert self._consumer is not None, "start() first"
        consumer = self._consumer
        infra_failures = 0
        while True:
            batch = await consumer.getmany(timeout_ms=IDLE_WAIT_MS, max_records=100)
            if not batch or asyncio.get_running_loop().time() - self._committed_at >= COMMIT_INTERVAL_SECONDS:
                await self._commit_handled()
            if self._concurrent_partitions:  # one topic's partitions at a time, side by side
                groups = [{tp: records for tp, records in batch.items() if tp.topic == topic}
                          for topic in sorted({tp.topic for tp in batch})]
            else:
                groups = [{tp: records} for tp, records in batch.items()]
            for group in groups:
                infra_failures = await self._handle_together(group, infra_failures)
            await self._record_lag(consumer)

    async def _handle_together(self, group: dict[TopicPartition, list[ConsumerRecord[Any, Any]]],
                               infra_failures: int) -> int:
        """Partitions side by side (each holds other cases: a case's events share a partition), each one's
        records one after another. A partition that meets an outage was sought back to its failed record, read
        again at the next poll, while the others went on; then the loop waits a moment. The outages in a row."""
        outcomes = await asyncio.gather(*(self._handle_partition(tp, records) for tp, records in group.items()),
                                        return_exceptions=True)
        failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for exc in failed:
            if not (isinstance(exc, InfrastructureUnavailable) or is_outage(exc)):
                raise exc
        if not failed:
            return 0
        await asyncio.sleep(self._outage_delay(infra_failures + 1))
        return infra_failures + 1

    def _outage_delay(self, failures: int) -> float:
        return float(min(self._outage_backoff, self._retry_backoff * 2 ** min(failures, 10)))

    async def _handle_partition(self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]) -> None:
        """The records in order: a run of plain ones (decodable, subscribed) in one transaction, anything else
        (or a run that failed) one at a time."""
        assert self._consumer is not None
        next_offset: int | None = None
        try:
            start = 0
            while start < len(records) and tp in self._assignment.partitions:
                envelopes = self._plain_run(records[start:start + TOGETHER_MAX])
                tried: int | None = None  # the record of the run whose handler failed, if one did
                if len(envelopes) > 1:
                    try:
                        handled, tried = await self._handle_run(envelopes)
                    except Exception:
                        self._consumer.seek(tp, records[start].offset)  # read the run again on the next poll
                        raise
                    if handled:
                        start += len(envelopes)
                        next_offset = records[start - 1].offset + 1
                        continue
                for index, record in enumerate(records[start:start + max(1, len(envelopes))]):
                    if tp not in self._assignment.partitions:
                        return
                    try:
                        decoded = envelopes[index] if index < len(envelopes) else None  # decoded once
                        await self.process(record, decoded=decoded, tried=1 if index == tried else 0)
                    except Exception:
                        self._consumer.seek(tp, record.offset)  # read it again on the next poll
                        raise
                    next_offset = record.offset + 1
                    start += 1
        finally:
            if next_offset is not None:
                self._handled[tp] = next_offset

    def _plain_run(self, records: list[ConsumerRecord[Any, Any]]) -> list[Envelope[Any]]:
        """The envelopes of the leading records this service handles; it stops at the first that is not one
        (undecodable, of an unknown type, or not subscribed to), which ``process`` then takes on its own."""
        envelopes: list[Envelope[Any]] = []
        for record in records:
            if codec.event_type(record.headers) not in self._handlers:
                break
            try:
                envelopes.append(codec.decode(record.headers, record.value))
            except PoisonMessage:
                break
        return envelopes

    async def _handle_run(self, envelopes: list[Envelope[Any]]) -> tuple[bool, int | None]:
        """The envelopes' inbox rows and handlers in one transaction: (True, None) once committed; (False, the
        index of the envelope whose handler failed, or None if the commit failed) once rolled back."""
        outcomes: list[str] = []
        try:
            async with self._sessionmaker() as session:
                for envelope in envelopes:
                    with self._about(envelope):
                        outcomes.append(await self._run_handlers(session, envelope))
                await session.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_outage(exc):
                raise _unavailable(exc) from exc
            failed = len(outcomes) if len(outcomes) < len(envelopes) else None
            log.info("consumer.handled_one_at_a_time", events=len(envelopes), error=describe_error(exc))
            return False, failed
        for envelope, outcome in zip(envelopes, outcomes, strict=True):
            EVENTS_CONSUMED.labels(self.service, envelope.type, outcome).inc()
        return True, None

    async def _commit_handled(self, partitions: list[TopicPartition] | None = None) -> None:
        """Commit the offsets handled since the last commit (of ``partitions`` only, if given)."""
        self._committed_at = asyncio.get_running_loop().time()
        chosen = set(self._handled) if partitions is None else set(partitions) & set(self._handled)
        offsets = {tp: self._handled.pop(tp) for tp in chosen}
        offsets = {tp: offset for tp, offset in offsets.items() if tp in self._assignment.partitions}
        if not offsets or self._consumer is None:
            return
        try:
            await self._consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
        except CommitFailedError:
            log.warning("consumer.commit_failed_after_rebalance", partitions=len(offsets))
        except KafkaError as exc:  # the broker is away: commit them with the next ones
            for tp, offset in offsets.items():
                self._handled[tp] = max(offset, self._handled.get(tp, offset))
            log.warning("consumer.commit_failed", error=type(exc).__name__)

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in list(self._assignment.partitions):
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await consumer.position(tp)
            except KafkaError:
                continue
            CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(max(0, highwater - position))

    async def process(self, record: ConsumerRecord[Any, Any], *, decoded: Envelope[Any] | None = None,
                      tried: int = 0) -> None:
        """Handle one record: exactly once in effect, whatever is redelivered. ``decoded``: its envelope, when
        the caller has decoded it already; ``tried``: its handlers have already failed that many times (in a
        transaction with the records beside it)."""
        if decoded is not None:
            await self._process_envelope(record, decoded, tried=tried)
            return
        try:
            event_type = codec.event_type(record.headers)
            if event_type is not None and event_type not in self._handlers:
                if event_type in BY_TYPE:  # a known event this service does not subscribe to
                    EVENTS_CONSUMED.labels(self.service, event_type, "ignored").inc()
                    return
                EVENTS_UNKNOWN_TYPE.labels(self.service, event_type[:100]).inc()
                await self._dead_letter(record, PoisonMessage(f"unknown event type {event_type[:100]!r}"),
                                        reason=DeadLetterReason.unknown_type)
                return
            envelope = codec.decode(record.headers, record.value)
        except PoisonMessage as exc:
            await self._dead_letter(record, exc, reason=DeadLetterReason.undecodable)
            return
        await self._process_envelope(record, envelope, tried=tried)

    async def _process_envelope(self, record: ConsumerRecord[Any, Any], envelope: Envelope[Any], *,
                                tried: int) -> None:
        """The handlers of a decoded record in their own transaction, with bounded retries, then the DLT."""
        with self._about(envelope):
            attempt = tried
            while True:
                attempt += 1
                try:
                    outcome = await self._handle(envelope)
                    EVENTS_CONSUMED.labels(self.service, envelope.type, outcome).inc()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_outage(exc):
                        raise _unavailable(exc) from exc
                    if attempt >= self._max_attempts or isinstance(exc, ValidationError):
                        EVENTS_CONSUMED.labels(self.service, envelope.type, "dead_lettered").inc()
                        await self._dead_letter(record, exc, reason=DeadLetterReason.handler_failed)
                        return
                    log.warning("consumer.retry", attempt=attempt, error=describe_error(exc))
                    await asyncio.sleep(min(self._max_backoff, self._retry_backoff * 2 ** (attempt - 1)))

    async def _handle(self, envelope: Envelope[Any], *, redriving: str | None = None, by: str = "") -> str:
        """The handlers, the inbox row and (when ``redriving`` a dead letter) its resolution, in one transaction."""
        async with self._sessionmaker() as session:
            if await self._run_handlers(session, envelope) == "duplicate":
                return "duplicate"
            if redriving is not None:
                letter = await session.get(DeadLetter, redriving)
                if letter is not None:
                    deadletters.resolve(session, letter, DeadLetterStatus.redriven, by=by)
            await session.commit()
        return "handled"

    @contextlib.contextmanager
    def _about(self, envelope: Envelope[Any]) -> Iterator[None]:
        """The event's trace span and log context, around its handling."""
        with (tracing.consuming(envelope.type, event_id=envelope.id, traceparent=envelope.traceparent,
                                service=self.service),
              bound_contextvars(case_id=envelope.subject, event_id=envelope.id, event_type=envelope.type)):
            yield

    async def _run_handlers(self, session: AsyncSession, envelope: Envelope[Any]) -> str:
        """Record the event in the inbox and run its handlers in ``session``'s transaction (not committed)."""
        if not await inbox.claim(session, envelope.id, envelope.type):
            return "duplicate"  # handled before, or by another consumer during a rebalance
        for handler in self._handlers[envelope.type]:
            await handler(envelope, session)
        return "handled"

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], exc: BaseException, *, reason: str) -> None:
        error = describe_error(exc)
        await self._keep_dead_letter(record, error, reason=reason)
        headers = [
            *(record.headers or ()),
            ("dlt_service", self.service.encode()),
            ("dlt_reason", reason.encode()),
            ("dlt_error", error.encode()),
            ("dlt_original_topic", record.topic.encode()),
            ("dlt_original_partition", str(record.partition).encode()),
            ("dlt_original_offset", str(record.offset).encode()),
        ]
        message = KafkaMessage(
            topic=self._namespace + dead_letter_topic(self.service), key=record.key or b"", value=record.value or b"", headers=headers
        )
        try:
            await self._producer.send_all([message])
        except KafkaError as error_:
            raise InfrastructureUnavailable("dead-letter topic unreachable") from error_
        EVENTS_DEAD_LETTERED.labels(self.service, reason).inc()
        log.error("consumer.dead_lettered", reason=reason, error=error, topic=record.topic,
                  partition=record.partition, offset=record.offset)

    async def _keep_dead_letter(self, record: ConsumerRecord[Any, Any], error: str, *, reason: str) -> None:
        """In the service's own database, for the ops API; the same record twice is one dead letter."""
        headers = [(name, bytes(value)) for name, value in record.headers or ()]
        attrs = {name: value.decode(errors="replace") for name, value in headers if name.startswith("ce_")}
        try:
            async with self._sessionmaker() as session:
                await deadletters.record(
                    session, group=self._namespace + self.service, topic=record.topic, partition=record.partition,
                    offset=record.offset, key=record.key, value=record.value, headers=headers, reason=reason,
                    error=error, event_id=attrs.get("ce_id"), event_type=attrs.get("ce_type"),
                    subject=attrs.get("ce_subject"))
                await session.commit()
        except Exception as exc:
            if is_outage(exc):
                raise InfrastructureUnavailable(describe_error(exc)) from exc
            raise

    async def redrive(self, letter_id: str, *, by: str) -> str:
        """Handle a dead letter again through the handler path (inbox included): ``handled`` or ``duplicate``
        (it was handled meanwhile), and the dead letter is resolved; else RedriveFailed, and it stays dead."""
        async with self._sessionmaker() as session:
            letter = await session.get(DeadLetter, letter_id)
            if letter is None:
                raise LookupError(letter_id)
            value, headers = deadletters.decode_bytes(letter.value_b64), deadletters.record_headers(letter)
        try:
            event_type = codec.event_type(headers)
            if event_type not in self._handlers:
                raise RedriveFailed(f"no handler for event type {str(event_type)[:100]!r}")
            envelope = codec.decode(headers, value)
            with bound_contextvars(case_id=envelope.subject, event_id=envelope.id, event_type=envelope.type):
                outcome = await self._handle(envelope, redriving=letter_id, by=by)
        except Exception as exc:
            if is_outage(exc):
                raise
            error = str(exc) if isinstance(exc, RedriveFailed) else describe_error(exc)
            async with self._sessionmaker() as session:
                letter = await session.get(DeadLetter, letter_id)
                if letter is not None:
                    letter.redrive_attempts += 1
                    letter.last_redrive_error = error[:1000]
                    session.add(letter)
                    await session.commit()
            log.warning("consumer.redrive_failed", dead_letter_id=letter_id, error=error)
            raise RedriveFailed(error) from exc
        async with self._sessionmaker() as session:
            letter = await session.get(DeadLetter, letter_id)
            if letter is not None:
                letter.redrive_attempts += 1
                if letter.status == DeadLetterStatus.dead:  # a duplicate: handled meanwhile, nothing left to do
                    deadletters.resolve(session, letter, DeadLetterStatus.redriven, by=by)
                session.add(letter)
                await session.commit()
        EVENTS_CONSUMED.labels(self.service, envelope.type, f"redriven_{outcome}").inc()
        log.info("consumer.redriven", dead_letter_id=letter_id, outcome=outcome)
        return outcome
