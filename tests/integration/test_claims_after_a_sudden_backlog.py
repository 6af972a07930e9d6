"""A worker's claim stays one pass over its queue when a backlog arrives faster than PostgreSQL re-analyses the table.

After an outage a queue fills in seconds: 1,000 certificate triggers, or 1,000 webhooks for a provider that was
down. Until autovacuum analyses the table (a minute or more later), the planner's statistics still say that no row
is pending. With the order-per-case check planned beside the claim, PostgreSQL then compared every pending row
with every other at each claim: 1,000,000 rows read, half a second a claim (docs/benchmarks.md, stop 30).

Each test counts the rows the claim reads in its own transaction (``pg_stat_xact_user_tables``: a count, not a
time) on real PostgreSQL, with autovacuum off for the tables so that the stale statistics stay as a backlog finds
them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession
from support import NOVEMBER_2026

from certificates.certificate import service as certificate_service
from certificates.certificate.models import CaseRecord, Certificate, CertificateKind, CertificateStatus
from scheduling.outbound import service as outbound_service
from scheduling.outbound.models import DeliveryStatus, WebhookEndpoint, WebhookMessage
from shared import clock
from shared.db import create_engine, create_sessionmaker
from shared.migrations import upgrade_to_head

pytestmark = pytest.mark.clock(NOVEMBER_2026)

DONE_BEFORE, BACKLOG = 100, 1000
#: One pass over the table, and an index lookup or two for the claimed row: far below BACKLOG squared.
ONE_PASS = 3 * (DONE_BEFORE + BACKLOG)


async def migrated(database_url: str, migrations: str, tables: list[str]) -> AsyncIterator[AsyncSession]:
    await asyncio.to_thread(upgrade_to_head, migrations, database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for table in tables:
                await connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        async with create_sessionmaker(engine, source="/test", wakers={})() as session:
            yield session
    finally:
        await engine.dispose()


async def analyse(session: AsyncSession, tables: list[str]) -> None:
    """Statistics as autovacuum last left them: taken when every row was done."""
    await session.commit()
    for table in tables:
        await session.exec(text(f"ANALYZE {table}"))  # type: ignore[call-overload]
    await session.commit()


async def rows_read(session: AsyncSession, table: str) -> int:
    """Rows this transaction has read from the table so far, by sequential and index scans."""
    return int((await session.exec(text(  # type: ignore[call-overload]
        "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = :table"),
        params={"table": table})).one()[0])



# --- certificates' issuer ---------------------------------------------------------------------------------------

CERTIFICATE_TABLES = ["certificates", "case_records"]


@pytest.fixture
async def certificates_db(database_url: str) -> AsyncIterator[AsyncSession]:
    async for session in migrated(database_url, "certificates:migrations", CERTIFICATE_TABLES):
        yield session


def trigger(case_id: str, status: CertificateStatus = CertificateStatus.pending, *,
            kind: CertificateKind = CertificateKind.adviser) -> list[CaseRecord | Certificate]:
    told = date(2026, 11, 20)
    return [CaseRecord(case_id=case_id, reference=f"SEND-{case_id[-8:]}", la_code="E06000033",
                       decision="refusal_to_assess", notice_sent_on=date(2026, 11, 3), requester_role="parent",
                       requester_name="Alex Example"),
            certificate(case_id, status, kind=kind, told=told)]


def certificate(case_id: str, status: CertificateStatus, *, kind: CertificateKind, told: date) -> Certificate:
    return Certificate(case_id=case_id, kind=kind, trigger_ref=f"{kind}-{uuid.uuid4().hex[:8]}",
                       trigger_event_id=f"evt-{uuid.uuid4().hex}", triggered_on=told, due_on=told + timedelta(days=7),
                       status=status, issuer="Jo Adviser", provider="Mediation Co")


async def test_the_issuer_claims_the_oldest_trigger_of_a_sudden_backlog_in_one_pass_before_the_table_is_analysed(
        certificates_db: AsyncSession) -> None:
    session = certificates_db
    for n in range(DONE_BEFORE):
        session.add_all(trigger(f"case-done-{n:04d}", CertificateStatus.issued))
    await analyse(session, CERTIFICATE_TABLES)
    backlog = [f"case-backlog-{n:04d}" for n in range(BACKLOG)]
    for case_id in backlog:
        session.add_all(trigger(case_id))
    await session.commit()

    before = await rows_read(session, "certificates")
    claimed = await certificate_service.next_pending(session, clock.now())
    read = await rows_read(session, "certificates") - before

    assert claimed is not None and claimed.certificate.case_id == backlog[0]
    assert read <= ONE_PASS, f"the claim read {read} certificate rows with {BACKLOG} pending"


async def test_a_trigger_behind_an_earlier_trigger_of_its_case_that_another_issuer_holds_is_passed_over(
        certificates_db: AsyncSession, database_url: str) -> None:
    session = certificates_db
    first, other = trigger("case-a"), trigger("case-b")
    session.add_all(first)
    await session.flush()
    later = certificate("case-a", CertificateStatus.pending, kind=CertificateKind.mediator, told=date(2026, 11, 21))
    session.add_all([later, *other])
    await session.commit()
    first_id, other_id = first[1].id, other[1].id

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, source="/test", wakers={})() as another_issuer:
            held = await certificate_service.next_pending(another_issuer, clock.now())
            assert held is not None and held.certificate.id == first_id
            claimed = await certificate_service.next_pending(session, clock.now())
            # Not case A's mediator certificate, whose adviser certificate is being decided elsewhere: case B's.
            assert claimed is not None and claimed.certificate.id == other_id
            assert await certificate_service.next_pending(session, clock.now(), in_hand=[other_id]) is None
            await session.rollback()
            await another_issuer.rollback()  # the other issuer let go without deciding: case A's first comes first
        claimed = await certificate_service.next_pending(session, clock.now())
        assert claimed is not None and claimed.certificate.id == first_id
    finally:
        await engine.dispose()


# --- scheduling's webhook dispatcher ----------------------------------------------------------------------------

WEBHOOK_TABLES = ["webhook_messages", "webhook_endpoints"]


@pytest.fixture
async def scheduling_db(database_url: str) -> AsyncIterator[AsyncSession]:
    async for session in migrated(database_url, "scheduling:migrations", WEBHOOK_TABLES):
        yield session


def webhook(endpoint_id: str, case_id: str, status: DeliveryStatus = DeliveryStatus.pending, *,
            after: timedelta = timedelta(0)) -> WebhookMessage:
    at = clock.now() - timedelta(hours=1) + after
    return WebhookMessage(id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint_id, case_id=case_id,
                          type="referral.created", payload={"data": {}}, status=status, next_attempt_at=at,
                          created_at=at)


async def test_the_dispatcher_claims_the_first_due_webhook_of_a_sudden_backlog_in_one_pass_before_the_table_is_analysed(
        scheduling_db: AsyncSession) -> None:
    session = scheduling_db
    session.add(WebhookEndpoint(id="ep-1", provider_id="kids-send-mediation", url="https://provider.example/hooks",
                                secrets=["whsec_test"]))
    await session.flush()
    for n in range(DONE_BEFORE):
        session.add(webhook("ep-1", f"case-done-{n:04d}", DeliveryStatus.delivered))
    await analyse(session, WEBHOOK_TABLES)
    backlog = [webhook("ep-1", f"case-backlog-{n:04d}", after=timedelta(seconds=n)) for n in range(BACKLOG)]
    session.add_all(backlog)
    await session.commit()
    first_id = backlog[0].id

    before = await rows_read(session, "webhook_messages")
    due = await outbound_service.next_due(session, clock.now())
    read = await rows_read(session, "webhook_messages") - before

    assert due is not None and due[0].id == first_id
    assert read <= ONE_PASS, f"the claim read {read} webhook rows with {BACKLOG} pending"


async def test_a_webhook_behind_an_older_one_of_its_case_that_another_dispatcher_holds_is_passed_over(
        scheduling_db: AsyncSession, database_url: str) -> None:
    session = scheduling_db
    session.add(WebhookEndpoint(id="ep-1", provider_id="kids-send-mediation", url="https://provider.example/hooks",
                                secrets=["whsec_test"]))
    await session.flush()
    older, newer = webhook("ep-1", "case-a"), webhook("ep-1", "case-a", after=timedelta(seconds=1))
    other = webhook("ep-1", "case-b", after=timedelta(seconds=2))
    session.add_all([older, newer, other])
    await session.commit()
    older_id, other_id = older.id, other.id

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, source="/test", wakers={})() as another_dispatcher:
            held = await outbound_service.next_due(another_dispatcher, clock.now())
            assert held is not None and held[0].id == older_id
            due = await outbound_service.next_due(session, clock.now())
            assert due is not None and due[0].id == other_id  # not case A's newer message: case B's
            await session.rollback()
            await another_dispatcher.rollback()
    finally:
        await engine.dispose()

