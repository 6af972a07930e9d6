"""Idempotent inbox: each handled event id is recorded with the handler's changes."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Insert, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock


class InboxEvent(SQLModel, table=True):
    __tablename__ = "inbox_events"

    event_id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=200)
    handled_at: datetime = Field(default_factory=clock.now)


@cache
def _claim_statement(dialect: str) -> Insert:
    """The claim, built once per dialect (building it each time cost as much as running it); values are bound
    at each call."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .values(event_id=bindparam("event_id"), type=bindparam("type"), handled_at=bindparam("handled_at"))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(table.c.event_id)
    )


async def claim(session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Record the event as handled in this transaction; False if it already was (its handlers must not run).

    One statement (``INSERT ... ON CONFLICT DO NOTHING RETURNING``) instead of a lookup and an insert. A
    consumer racing this one for the same event (during a rebalance) waits on the row until that transaction
    ends, then finds it recorded, or, if that one rolled back, records it itself.
    """
    statement = _claim_statement(session.get_bind().dialect.name)
    result = await session.exec(statement, params={"event_id": event_id, "type": event_type, "handled_at": clock.now()})
    return result.first() is not None
