"""Every SMTP attempt in the delivery log, and a shutdown that never waits on a stalled SMTP server.

Over real PostgreSQL, Kafka and an aiosmtpd server whose DATA replies the tests script or stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, eventually, handle, serve

from notifications.main import create_app
from notifications.message import handlers
from notifications.message import service as message_service
from notifications.message.models import AttemptOutcome, Message, MessageAttempt, MessageStatus
from notifications.settings import NotificationsSettings
from shared import clock
from shared.events import CaseSubmittedV1, Party
from shared.localinfra.smtp import SmtpServer

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

CASE_ID = "case-0001"
PARENT = "alex@example.org"


def settings_for(database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer,
                 **overrides: object) -> NotificationsSettings:
    return NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                 kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port, **overrides)


@pytest.fixture
async def notifications(database_url, kafka_bootstrap, namespace, smtp_server) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings_for(database_url, kafka_bootstrap, namespace, smtp_server))) as client:
        yield client


def submitted() -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20),
        requester=Party(role="parent", name="Alex Example", email=PARENT))


class Stall:
    """The server takes the parent's DATA and then says nothing until released (a hung relay)."""

    def __init__(self, smtp_server: SmtpServer) -> None:
        self.entered, self.released = threading.Event(), threading.Event()
        original = smtp_server.handler.handle_DATA

        async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
            if PARENT in envelope.rcpt_tos and not self.released.is_set():
                self.entered.set()
                while not self.released.is_set():
                    await asyncio.sleep(0.05)
                return "451 4.3.0 Stalled, try again"
            return await original(server, session, envelope)

        smtp_server.handler.handle_DATA = handle_DATA  # type: ignore[method-assign]

    async def reached(self) -> bool:
        return self.entered.is_set()


async def family_message(client: httpx.AsyncClient) -> Message | None:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return (await session.exec(select(Message).where(Message.recipient_role == "requester"))).first()


async def attempts(client: httpx.AsyncClient) -> list[MessageAttempt]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        message = (await session.exec(select(Message).where(Message.recipient_role == "requester"))).one()
        return list((await session.exec(select(MessageAttempt).where(MessageAttempt.message_uuid == message.id)
                                        .order_by(MessageAttempt.attempt))).all())


async def finished_attempts(client: httpx.AsyncClient) -> list[MessageAttempt]:
    """The attempts whose outcome is known (an attempt is on record, in flight, from before the email leaves)."""
    return [a for a in await attempts(client) if a.outcome is not AttemptOutcome.in_flight]


async def settled(client: httpx.AsyncClient) -> Message | None:
    message = await family_message(client)
    return message if message is not None and message.status is not MessageStatus.pending else None


async def test_each_smtp_attempt_is_in_the_delivery_log_with_its_code_and_a_short_reply_without_the_address(
        notifications, smtp_server):
    smtp_server.handler.script("451 4.2.2 Mailbox of <alex@example.org> is full, try later", to=PARENT)

    await handle(notifications, submitted(), handlers.acknowledge_request, subject=CASE_ID)
    message = await eventually(lambda: settled(notifications), timeout=90, what="sent after a retry")
    response = await notifications.get(f"/v1/messages/{message.id}", headers=OPS)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"]) == ("sent", 2)
    assert [(a["attempt"], a["outcome"], a["smtp_code"], a["reply"]) for a in body["delivery_attempts"]] == [
        (1, "temporary_failure", 451, "4.2.2 Mailbox of <<address>> is full, try later"),
        (2, "delivered", 250, "Message accepted for delivery"),
    ]
    assert PARENT not in response.text
    assert "Dear" not in response.text


async def test_a_resend_after_a_permanent_failure_continues_the_same_history(notifications, smtp_server):
    smtp_server.handler.script("550 5.1.1 No such mailbox", to=PARENT)
    await handle(notifications, submitted(), handlers.acknowledge_request, subject=CASE_ID)
    message = await eventually(lambda: settled(notifications), what="the email failed")

    await notifications.post(f"/v1/messages/{message.id}/resend", headers=OPS)
    await eventually(lambda: _with_status(notifications, MessageStatus.sent), what="the resend delivered")

    history = (await notifications.get(f"/v1/messages/{message.id}", headers=OPS)).json()["delivery_attempts"]
    assert [(a["attempt"], a["outcome"], a["smtp_code"]) for a in history] == [
        (1, "permanent_failure", 550), (2, "delivered", 250)]


async def _with_status(client: httpx.AsyncClient, status: MessageStatus) -> Message | None:
    message = await family_message(client)
    return message if message is not None and message.status is status else None


async def test_an_unknown_message_answers_404(notifications):
    response = await notifications.get("/v1/messages/no-such-message", headers=OPS)

    assert response.status_code == 404


@pytest.mark.smtp_in_process  # Stall swaps the server's DATA handler
async def test_a_server_that_never_answers_is_cut_off_by_the_whole_send_timeout(database_url, kafka_bootstrap,
                                                                               namespace, smtp_server):
    stall = Stall(smtp_server)
    settings = settings_for(database_url, kafka_bootstrap, namespace, smtp_server, smtp_timeout_seconds=300,
                            smtp_send_timeout_seconds=1)
    try:
        async with serve(create_app(settings)) as client:
            await handle(client, submitted(), handlers.acknowledge_request, subject=CASE_ID)
            first, *_ = await eventually(lambda: finished_attempts(client), what="the stalled attempt cut off")
            stall.released.set()

            message = await eventually(lambda: settled(client), timeout=90, what="delivered on the retry")
    finally:
        stall.released.set()

    assert (first.outcome, first.smtp_code, first.reply) == ("temporary_failure", None, "TimeoutError")
    assert message.status is MessageStatus.sent


@pytest.mark.smtp_in_process  # Stall swaps the server's DATA handler
async def test_a_shutdown_during_an_smtp_send_neither_hangs_nor_loses_the_message(database_url, kafka_bootstrap,
                                                                                 namespace, smtp_server):
    # The server would keep the connection for 300 s; the shutdown must not wait for it (it did: QUIT on cancel).
    stall = Stall(smtp_server)
    settings = settings_for(database_url, kafka_bootstrap, namespace, smtp_server, smtp_timeout_seconds=300,
                            smtp_send_timeout_seconds=300, smtp_shutdown_grace_seconds=0.2)
    try:
        stack = contextlib.AsyncExitStack()
        client = await stack.enter_async_context(serve(create_app(settings)))
        await handle(client, submitted(), handlers.acknowledge_request, subject=CASE_ID)
        await eventually(stall.reached, what="the parent's email in flight")

        await asyncio.wait_for(stack.aclose(), timeout=60)  # a deadline far below the 300 s the old code waited

        stall.released.set()
        async with serve(create_app(settings.model_copy(update={"run_workers": False, "run_consumer": False}))) as stopped:
            interrupted, pending = await attempts(stopped), await family_message(stopped)
        async with serve(create_app(settings)) as restarted:
            message = await eventually(lambda: settled(restarted), what="sent after the restart")
            history = await attempts(restarted)
    finally:
        stall.released.set()

    assert [(a.attempt, a.outcome, a.reply) for a in interrupted] == [(1, "temporary_failure", "interrupted by shutdown")]
    assert pending is not None and pending.status is MessageStatus.pending
    assert message.status is MessageStatus.sent
    assert [a.outcome for a in history] == ["temporary_failure", "delivered"]
    [email] = [e for e in smtp_server.handler.messages() if e["X-Envelope-To"] == PARENT]
    assert email["Message-ID"] == message.message_id


async def test_a_delivery_whose_outcome_was_never_committed_stays_in_the_delivery_log(database_url, kafka_bootstrap,
                                                                                       namespace, smtp_server):
    settings = settings_for(database_url, kafka_bootstrap, namespace, smtp_server, run_workers=False)
    async with serve(create_app(settings)) as client:
        sessionmaker = client.app.state.runtime.sessionmaker  # type: ignore[attr-defined]
        await handle(client, submitted(), handlers.acknowledge_request, subject=CASE_ID)
        queued = await family_message(client)
        assert queued is not None
        async with sessionmaker() as session:  # the email leaves, then the outcome's commit is lost
            due = await message_service.next_due(session, clock.now())
            assert due is not None and due.message.id == queued.id
            await message_service.send_one(session, due, settings)
            await session.rollback()
        async with sessionmaker() as session:  # the lease ran out: the sender tries again, before the others
            message = await session.get(Message, queued.id)
            message.next_attempt_at = clock.now() - timedelta(days=1)
            session.add(message)
            await session.commit()
        async with sessionmaker() as session:
            due = await message_service.next_due(session, clock.now())
            assert due is not None and due.message.id == queued.id and due.unfinished
            await message_service.send_one(session, due, settings)
            await session.commit()

        log = await attempts(client)

    assert [(a.attempt, a.outcome) for a in log] == [(1, AttemptOutcome.unknown), (2, AttemptOutcome.delivered)]
    copies = [e for e in smtp_server.handler.messages() if e["X-Envelope-To"] == PARENT]
    assert len(copies) == 2 and copies[0]["Message-ID"] == copies[1]["Message-ID"] == queued.message_id
