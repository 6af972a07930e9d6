"""Dead letters ops can act on: every dead-lettered record is kept in the service's own database.

The consumer still produces each one to ``<service>.dlt`` (for tools that read
topics), and records it here in the same step, so that the ops API
(``shared.ops``) can list it with its reason, a safe error detail (exception
class, where it was raised, SQLSTATE: never event data or SQL parameters), its
original topic, partition and offset and its age; re-drive it through the
consumer's handler path (the inbox makes that safe); or discard it with a reason.

``source`` says where the item came from: ``consumer`` for events. Table
workers that park a row (``shared.poison``: the email sender, the outbox
relay...) record their parked items here too, under their worker's name, with
``topic`` the table and ``event_id`` the row's key, so ops have one place to look.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Text, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock

CONSUMER = "consumer"


class DeadLetterReason(StrEnum):
    undecodable = "undecodable"  # not a CloudEvent we can read
    handler_failed = "handler_failed"  # a handler kept failing (or the data broke its model)
    unknown_type = "unknown_type"  # a type no model in shared.events knows (a newer producer, a typo)
    # A table worker's parked item (shared.poison):
    too_large = "too_large"  # an event larger than the broker takes
    unencodable = "unencodable"  # a row that cannot be encoded (its data breaks its event model)
    unrenderable = "unrenderable"  # an email that cannot be rendered or built (a template, a header value)
    rejected = "rejected"  # the receiver kept refusing this one item while it took others
    item_failed = "item_failed"  # any other failure that kept happening (not an outage)


class DeadLetterStatus(StrEnum):
    dead = "dead"  # waiting for ops
    redriven = "redriven"  # handled again, successfully
    discarded = "discarded"  # ops decided it needs no handling, with a reason


class DeadLetter(SQLModel, table=True):
    __tablename__ = "dead_letters"

    id: str = Field(primary_key=True, max_length=36)
    source: str = Field(default=CONSUMER, max_length=64, index=True)
    status: str = Field(default=DeadLetterStatus.dead, max_length=16, index=True, description="DeadLetterStatus")
    reason: str = Field(max_length=32, description="DeadLetterReason")
    error: str = Field(max_length=1000, description="Exception class, where it was raised, SQLSTATE: no data")
    event_id: str | None = Field(default=None, max_length=200)
    event_type: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=200, description="The case id")
    topic: str = Field(max_length=300)
    partition: int
    offset: int
    #: The record as it was read (base64), so that a re-drive handles exactly that; never shown by the API.
    key_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    value_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    headers: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    dead_lettered_at: datetime = Field(default_factory=clock.now)
    redrive_attempts: int = 0
    last_redrive_error: str | None = Field(default=None, max_length=1000)
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=200)
    resolution: str | None = Field(default=None, max_length=500, description="Why it was discarded")


def dead_letter_id(group: str, topic: str, partition: int, offset: int) -> str:
    """One record, one dead letter: the same record dead-lettered again (a retry after a crash) is not a second."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"send-mediation:dead-letter:{group}:{topic}:{partition}:{offset}"))


def encode_bytes(raw: bytes | None) -> str:
    return base64.b64encode(raw or b"").decode()


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text.encode())


async def record(session: AsyncSession, *, group: str, topic: str, partition: int, offset: int,
                 key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]],
                 reason: str, error: str, event_id: str | None, event_type: str | None,
                 subject: str | None) -> DeadLetter:
    found = await session.get(DeadLetter, dead_letter_id(group, topic, partition, offset))
    if found is not None:
        return found
    letter = DeadLetter(
        id=dead_letter_id(group, topic, partition, offset), reason=reason, error=error[:1000],
        event_id=(event_id or "")[:200] or None, event_type=(event_type or "")[:200] or None,
        subject=(subject or "")[:200] or None, topic=topic, partition=partition, offset=offset,
        key_b64=encode_bytes(key), value_b64=encode_bytes(value),
        headers=[[name, encode_bytes(raw)] for name, raw in headers],
    )
    session.add(letter)
    return letter


def record_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    return [(name, decode_bytes(raw)) for name, raw in letter.headers]


async def listing(session: AsyncSession, *, status: str | None, reason: str | None,
                  limit: int, offset: int, source: str | None = None) -> tuple[list[DeadLetter], int]:
    query = select(DeadLetter)
    count = select(func.count()).select_from(DeadLetter)
    if source is not None:
        query, count = query.where(DeadLetter.source == source), count.where(DeadLetter.source == source)
    if status is not None:
        query, count = query.where(DeadLetter.status == status), count.where(DeadLetter.status == status)
    if reason is not None:
        query, count = query.where(DeadLetter.reason == reason), count.where(DeadLetter.reason == reason)
    rows = (await session.exec(query.order_by(col(DeadLetter.dead_lettered_at), col(DeadLetter.id))
                               .offset(offset).limit(limit))).all()
    return list(rows), int((await session.exec(count)).one())


async def waiting_ids(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """The ids and sources of the oldest waiting dead letters."""
    rows = (await session.exec(
        select(DeadLetter.id, DeadLetter.source).where(DeadLetter.status == DeadLetterStatus.dead)
        .order_by(col(DeadLetter.dead_lettered_at), col(DeadLetter.id)).limit(limit))).all()
    return [(letter_id, source) for letter_id, source in rows]


def resolve(session: AsyncSession, letter: DeadLetter, status: str, *, by: str,
            resolution: str | None = None) -> None:
    letter.status, letter.resolved_at, letter.resolved_by, letter.resolution = status, clock.now(), by, resolution
    session.add(letter)


async def waiting(session: AsyncSession) -> int:
    result = await session.scalar(
        select(func.count()).select_from(DeadLetter).where(DeadLetter.status == DeadLetterStatus.dead))
    return int(result or 0)
