"""Poison isolation for the table workers: one bad row costs one item, never the queue behind it (issue 11).

A worker pulls its work from a table (the outbox relay, the email sender, the
reminder worker, the webhook dispatcher, the certificate issuer). When an item
fails for a reason that is not an outage (``shared.outage``), the worker
records the failure here and moves on to the next row at once; the item is
tried again after a growing pause, and after ``poison_max_tries`` failures (at
once when the failure can never change, e.g. an event larger than the broker
takes) it is *parked*: counted in ``worker_items_parked_total``, recorded in the
service's ``dead_letters`` with ``source`` = the worker and a safe detail (the
exception class and where it was raised, never data), and left alone until ops
re-drive it (``POST /v1/ops/dead-letters/{id}/redrive``: the parked state is
cleared and the worker takes it again) or discard it.

Failures live in one table, ``work_item_failures`` (worker, item key), so
every worker skips its failing and parked items with the same clause
(``available``) and the item tables keep their own meaning. An item that
succeeds forgets its failures.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import String, cast, delete, exists, func, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock
from shared.deadletters import DeadLetter, DeadLetterReason
from shared.logging import get_logger
from shared.metrics import WORKER_ITEM_FAILURES, WORKER_ITEMS_PARKED
from shared.settings import ServiceSettings

log = get_logger(__name__)


class ItemFailure(SQLModel, table=True):
    """A work item that failed (not for an outage): when to try it again, or that it is parked."""

    __tablename__ = "work_item_failures"

    worker: str = Field(primary_key=True, max_length=64)
    item_key: str = Field(primary_key=True, max_length=64)
    subject: str | None = Field(default=None, max_length=64, index=True, description="The case id")
    tries: int = 0
    first_failed_at: datetime = Field(default_factory=clock.now)
    last_failed_at: datetime = Field(default_factory=clock.now)
    retry_at: datetime = Field(default_factory=clock.now)
    parked_at: datetime | None = None
    discarded_at: datetime | None = None
    reason: str = Field(max_length=32, description="DeadLetterReason")
    error: str = Field(max_length=1000, description="Exception class and where it was raised: no data")
    dead_letter_id: str | None = Field(default=None, max_length=36)


class ItemError(Exception):
    """Raise ``from`` the original error to say why the item failed (e.g. ``unrenderable``)."""

    def __init__(self, reason: DeadLetterReason, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason


class ParkNow(ItemError):
    """A failure that retrying can never change (e.g. too large for the broker): the item is parked at once."""


def _describe(exc: BaseException) -> str:
    from shared.kafka.consumer import describe_error  # the consumer's safe error detail (no data)

    if isinstance(exc, ItemError):
        if exc.__cause__ is not None:
            return describe_error(exc.__cause__)
        return f"{exc.reason}: {exc}"[:1000]
    return describe_error(exc)


def available(worker: str, key: Any, now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    """A where-clause: the item whose key is ``key`` (a column) is neither parked nor waiting to be retried at
    ``now`` (a time, or a bound parameter of a statement built once)."""
    return ~exists().where(
        col(ItemFailure.worker) == worker, col(ItemFailure.item_key) == cast(key, String),
        or_(col(ItemFailure.parked_at).is_not(None), col(ItemFailure.retry_at) > now))


def retry_delay(tries: int, base_seconds: float) -> float:
    """Seconds until a failed item is tried again: ``base``, doubling, at most five minutes."""
    return float(min(300.0, base_seconds * 2 ** max(0, tries - 1)))


async def note_failure(
    session: AsyncSession, *, worker: str, item_key: str, subject: str | None, table: str, item_type: str | None,
    exc: BaseException, max_tries: int, retry_base_seconds: float,
    reason: DeadLetterReason = DeadLetterReason.item_failed,
) -> ItemFailure:
    """In the caller's transaction: one more failure of the item; parked (with a dead letter) once tries run out.

    ``reason`` is the default; an ``ItemError`` carries its own. Count and log once committed (``counted``).
    """
    if isinstance(exc, ItemError):
        reason = exc.reason
    error = _describe(exc)
    now = clock.now()
    failure = await _locked_failure(session, worker=worker, item_key=item_key, subject=subject, reason=reason,
                                    error=error[:1000], now=now)
    failure.tries += 1
    failure.last_failed_at, failure.reason, failure.error = now, reason, error[:1000]
    failure.retry_at = now + timedelta(seconds=retry_delay(failure.tries, retry_base_seconds))
    if (isinstance(exc, ParkNow) or failure.tries >= max_tries) and failure.parked_at is None:
        failure.parked_at, failure.discarded_at = now, None
        letter = DeadLetter(
            id=str(uuid.uuid4()), source=worker, reason=reason, error=error[:1000], event_id=item_key,
            event_type=(item_type or "")[:200] or None, subject=subject, topic=table, partition=0, offset=0)
        failure.dead_letter_id = letter.id
        session.add(letter)
    session.add(failure)
    return failure


async def _locked_failure(session: AsyncSession, *, worker: str, item_key: str, subject: str | None, reason: str,
                          error: str, now: datetime) -> ItemFailure:
    """The item's failure row, made if it is the first failure, and locked until the caller commits.

    Two failures of one item can be recorded at once (two lanes, or two replicas, that each took the item
    on a snapshot from before the other's failure was committed): each waits for the other's row, so each try
    is counted and the item is parked, with one dead letter, once (CI of stop 24 parked one twice).
    """
    bind = session.get_bind()
    insert = sqlite_insert if bind.dialect.name == "sqlite" else postgresql_insert
    await session.exec(insert(ItemFailure).values(
        worker=worker, item_key=item_key, subject=subject, tries=0, first_failed_at=now, last_failed_at=now,
        retry_at=now, reason=reason, error=error).on_conflict_do_nothing())
    failure = await session.get(ItemFailure, (worker, item_key), with_for_update=True, populate_existing=True)
    assert failure is not None  # made above, or by the failure that held it
    return failure


def counted(failure: ItemFailure, *, service: str) -> None:
    """Metrics and a log line (no data: the key, the case id, the error class) for a committed failure."""
    WORKER_ITEM_FAILURES.labels(service, failure.worker).inc()
    if failure.parked_at is not None:
        WORKER_ITEMS_PARKED.labels(service, failure.worker, failure.reason).inc()
        log.error("worker.item_parked", worker=failure.worker, item=failure.item_key, case_id=failure.subject,
                  reason=failure.reason, error=failure.error, tries=failure.tries)
    else:
        log.warning("worker.item_failed", worker=failure.worker, item=failure.item_key, case_id=failure.subject,
                    error=failure.error, tries=failure.tries, retry_at=failure.retry_at.isoformat())


async def record_failure(
    sessionmaker: async_sessionmaker[AsyncSession], *, service: str, worker: str, item_key: str,
    subject: str | None, table: str, item_type: str | None, exc: BaseException, max_tries: int,
    retry_base_seconds: float, reason: DeadLetterReason = DeadLetterReason.item_failed,
) -> ItemFailure:
    """``note_failure`` in its own transaction (the item's own was rolled back), then ``counted``."""
    async with sessionmaker() as session:
        failure = await note_failure(session, worker=worker, item_key=item_key, subject=subject, table=table,
                                     item_type=item_type, exc=exc, max_tries=max_tries,
                                     retry_base_seconds=retry_base_seconds, reason=reason)
        await session.commit()
    counted(failure, service=service)
    return failure


class _Runtime(Protocol):
    sessionmaker: async_sessionmaker[AsyncSession]
    service: str
    settings: ServiceSettings


async def item_failed(runtime: _Runtime, *, worker: str, item_key: str, subject: str | None, table: str,
                      item_type: str | None, exc: BaseException,
                      reason: DeadLetterReason = DeadLetterReason.item_failed) -> ItemFailure:
    """``record_failure`` with the service's settings (``poison_max_tries``, ``poison_retry_seconds``)."""
    return await record_failure(runtime.sessionmaker, service=runtime.service, worker=worker, item_key=item_key,
                                subject=subject, table=table, item_type=item_type, exc=exc, reason=reason,
                                max_tries=runtime.settings.poison_max_tries,
                                retry_base_seconds=runtime.settings.poison_retry_seconds)


async def forget(session: AsyncSession, worker: str, *item_keys: str) -> None:
    """The items succeeded: their earlier failures no longer count (in the caller's transaction)."""
    if item_keys:
        await session.exec(delete(ItemFailure).where(
            col(ItemFailure.worker) == worker, col(ItemFailure.item_key).in_(item_keys)))


#: Per worker, what a re-drive resets on the item itself besides its parked state (e.g. its attempt count).
Requeue = Callable[[AsyncSession, str], Awaitable[None]]
REQUEUE: dict[str, Requeue] = {}


def on_requeue(worker: str, requeue: Requeue) -> None:
    REQUEUE[worker] = requeue


async def requeue(session: AsyncSession, letter: DeadLetter) -> None:
    """Re-drive a parked item: clear its parked state so that its worker takes it again (the caller commits)."""
    await forget(session, letter.source, letter.event_id or "")
    hook = REQUEUE.get(letter.source)
    if hook is not None:
        await hook(session, letter.event_id or "")


async def discard(session: AsyncSession, letter: DeadLetter) -> None:
    """Discard a parked item: it stays out of its worker's way for good, and holds nothing behind it."""
    failure = await session.get(ItemFailure, (letter.source, letter.event_id or ""))
    if failure is not None:
        failure.discarded_at = clock.now()
        session.add(failure)


async def parked_count(session: AsyncSession) -> dict[str, int]:
    """Parked, not discarded, items per worker."""
    rows = (await session.exec(
        select(ItemFailure.worker, func.count()).where(col(ItemFailure.parked_at).is_not(None),
                                                       col(ItemFailure.discarded_at).is_(None))
        .group_by(col(ItemFailure.worker)))).all()
    return {worker: int(count) for worker, count in rows}

