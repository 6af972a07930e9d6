"""The database plumbing every service shares: pooled connections, the inbox and writing new rows, on real
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from support import eventually

from intake.case.models import Case, CaseKind, CaseStatus, IdempotencyRecord
from intake.timeline.models import TimelineEntry
from shared import clock, inbox, poison
from shared.db import create_engine, create_sessionmaker, insert_added
from shared.deadletters import DeadLetter
from shared.events.cases import CaseWithdrawnV1
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent, add_event
from shared.poison import ItemFailure


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



@pytest.mark.parametrize("earlier_failures", [0, 1])
async def test_two_failures_of_one_item_recorded_at_once_are_both_counted_and_park_it_with_one_dead_letter(
        database_url, earlier_failures):
    """Two lanes (or replicas) that each took an item on a snapshot from before the other's failure was
    committed record their failures at once: the second waits for the first's row (CI of stop 24 parked one
    item twice, with two dead letters)."""
    engine = create_engine(database_url)
    failure_of = {"worker": "certificate_issuer", "item_key": "certificate-1", "subject": "case-1",
                  "table": "certificates", "item_type": "adviser", "max_tries": 2, "retry_base_seconds": 0.1}
    try:
        async with engine.begin() as connection:
            for table in (ItemFailure.__table__, DeadLetter.__table__):  # type: ignore[attr-defined]
                await connection.run_sync(table.create)
        maker = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
        for _ in range(earlier_failures):
            async with maker() as session:
                await poison.note_failure(session, exc=ValueError("cannot be laid out"), **failure_of)
                await session.commit()
        admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            async with maker() as first, maker() as second:
                await poison.note_failure(first, exc=ValueError("cannot be laid out"), **failure_of)
                racing = asyncio.create_task(
                    poison.note_failure(second, exc=ValueError("cannot be laid out"), **failure_of))

                async def waiting_on_a_lock() -> bool:
                    return bool(await admin.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))

                await eventually(waiting_on_a_lock, what="the second failure waiting for the first's row")
                assert not racing.done()
                await first.commit()
                await asyncio.wait_for(racing, timeout=30)  # a deadline, not a speed check
                await second.commit()
        finally:
            await admin.close()
        async with maker() as session:
            [failure] = (await session.exec(select(ItemFailure))).all()
            letters = (await session.exec(select(DeadLetter))).all()
        assert failure.tries == earlier_failures + 2 and failure.parked_at is not None
        assert [letter.id for letter in letters] == [failure.dead_letter_id]
        assert (letters[0].source, letters[0].event_id, letters[0].subject) == (
            "certificate_issuer", "certificate-1", "case-1")
    finally:
        await engine.dispose()


#: Intake's tables, written as intake writes a new case (``intake.case.service.submit``).
TABLES = [Case.__table__, IdempotencyRecord.__table__, TimelineEntry.__table__, OutboxEvent.__table__]  # type: ignore[attr-defined]
REASONS = ("no_longer_disputed", "appeal_not_pursued", "resolved_otherwise")


def withdrawn(case: Case, reason: str) -> CaseWithdrawnV1:
    return CaseWithdrawnV1(case_id=case.id, la_code=case.la_code, withdrawn_on=clock.today(),
                           reason=reason)  # type: ignore[arg-type]


def _intake_rows(case_id: str) -> list[object]:
    return [TimelineEntry(case_id=case_id, kind="submitted", occurred_at=clock.now(), summary="Mediation requested"),
            IdempotencyRecord(la_code="E09000033", key="retry-1", request_hash="0" * 64, case_id=case_id)]


async def test_the_rows_of_a_new_case_are_written_in_one_statement_in_the_order_they_were_added(sessions):
    engine = sessions
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement.split(None, 1)[0].upper()))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all, tables=TABLES)
        maker = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
        async with maker() as session:
            case = Case(reference="SEND-ABCDEFGH", la_code="E09000033", kind=CaseKind.mediation,
                        status=CaseStatus.submitted, told_on=clock.today(), mediation_issues=["placement"])
            session.add(case)
            session.add_all(_intake_rows(case.id))  # the timeline entry refers to the case added before it
            for reason in REASONS:
                add_event(session, withdrawn(case, reason), subject=case.id)
            statements.clear()
            await insert_added(session)
            written = list(statements)
            await session.commit()
            assert sa_inspect(case).persistent and not session.new  # as after a flush
        if engine.dialect.name == "postgresql":
            assert written == ["WITH"]  # one round trip, not one INSERT per table
        async with maker() as session:
            stored = await session.get(Case, case.id)
            assert stored is not None and stored.mediation_issues == ["placement"]
            assert stored.status is CaseStatus.submitted
            assert (await session.exec(select(TimelineEntry.kind))).all() == ["submitted"]
            events = (await session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id)))).all()
            assert [json.loads(e.envelope)["data"]["reason"] for e in events] == list(REASONS)
    finally:
        await engine.dispose()


async def test_a_new_case_whose_key_is_taken_writes_nothing_at_all(sessions):
    engine = sessions
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all, tables=TABLES)
        maker = create_sessionmaker(engine, source="/send-mediation/test", wakers={})
        for attempt in ("SEND-AAAAAAAA", "SEND-BBBBBBBB"):
            async with maker() as session:
                case = Case(reference=attempt, la_code="E09000033", kind=CaseKind.mediation,
                            status=CaseStatus.submitted, told_on=clock.today())
                session.add(case)
                session.add_all(_intake_rows(case.id))  # the same Idempotency-Key both times
                add_event(session, withdrawn(case, "other"), subject=case.id)
                if attempt == "SEND-AAAAAAAA":
                    await insert_added(session)
                    await session.commit()
                    continue
                with pytest.raises(IntegrityError):
                    await insert_added(session)
                await session.rollback()
        async with maker() as session:
            assert (await session.exec(select(Case.reference))).all() == ["SEND-AAAAAAAA"]
            assert len((await session.exec(select(TimelineEntry.id))).all()) == 1
            assert len((await session.exec(select(OutboxEvent.id))).all()) == 1
    finally:
        await engine.dispose()
