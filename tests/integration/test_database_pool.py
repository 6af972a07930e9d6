"""The database plumbing every service shares: pooled connections and the inbox, on real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from shared import inbox
from shared.db import create_engine, create_sessionmaker
from shared.inbox import InboxEvent


async def backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_pooled_connection_the_server_closed_is_replaced_before_it_is_used(database_url):
    engine = create_engine(database_url)
    try:
        pooled = await backend_pid(engine)  # back in the pool, idle
        admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pooled)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)  # the pooled connection's socket is closed by the server meanwhile

        # No error for the caller: the pool hands out a new connection, not the closed one.
        assert await backend_pid(engine) != pooled
    finally:
        await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def sessions(request, database_url, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = database_url if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}"
    return create_engine(url)


async def test_an_event_is_claimed_once_and_again_only_after_a_rollback(sessions):
    engine = sessions
    try:
        async with engine.begin() as connection:
            await connection.run_sync(InboxEvent.__table__.create)  # type: ignore[attr-defined]
        maker = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
        async with maker() as session:
            assert await inbox.claim(session, "event-1", "case.submitted.v1")
            await session.rollback()  # the handler failed: the event is not handled
        async with maker() as session:
            assert await inbox.claim(session, "event-1", "case.submitted.v1")
            await session.commit()
        async with maker() as session:
            assert not await inbox.claim(session, "event-1", "case.submitted.v1")  # a redelivery
            assert await inbox.claim(session, "event-2", "case.submitted.v1")
            await session.commit()
    finally:
        await engine.dispose()


async def test_a_consumer_racing_another_for_one_event_waits_and_finds_it_handled(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(InboxEvent.__table__.create)  # type: ignore[attr-defined]
        maker = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
        async with maker() as first, maker() as second:
            assert await inbox.claim(first, "event-1", "case.submitted.v1")
            racing = asyncio.create_task(inbox.claim(second, "event-1", "case.submitted.v1"))
            await asyncio.sleep(0.3)
            assert not racing.done()  # held on the first transaction's row
            await first.commit()
            assert await asyncio.wait_for(racing, timeout=30) is False  # a deadline, not a speed check
    finally:
        await engine.dispose()

