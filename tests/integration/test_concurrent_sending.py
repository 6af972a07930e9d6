"""Several SMTP sends in flight at once (``smtp_concurrency``), over real PostgreSQL, Kafka and aiosmtpd.

The SMTP server holds every DATA a moment, so the sends overlap, and keeps the interval each one was in
flight: each email arrives once, a poison one is parked while the others go, one case's emails never overlap.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, eventually, serve

from notifications.main import create_app
from notifications.message import handlers, sender
from notifications.message import service as message_service
from notifications.message.models import AttemptOutcome, Message, MessageAttempt, MessageStatus, Recipient
from notifications.settings import NotificationsSettings
from shared.events import CaseSubmittedV1, Envelope, Party
from shared.localinfra.smtp import SmtpServer

pytestmark = [pytest.mark.clock(NOVEMBER_2026), pytest.mark.smtp_in_process]  # Slow wraps the DATA handler

CASES = 6
POISON_CASE = "case-poison"
#: Parked after two failures, tried again a tenth of a second after the first.
POISON = {"poison_max_tries": 2, "poison_retry_seconds": 0.1}


@dataclass
class Slow:
    """The server takes ``hold`` seconds over each DATA, and notes when each Message-ID was in flight."""

    smtp_server: SmtpServer
    hold: float = 0.15
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    in_flight: int = 0
    peak: int = 0
    #: The client end (address, port) of each connection an email came over: one per connection.
    connections: set[tuple[str, int]] = field(default_factory=set)
    #: The server allows one email per connection: it closes each just after accepting its email ("close"), or
    #: answers the next email's DATA on it with 421 and closes it then ("421", as at an idle timeout).
    one_per_connection: str | None = None

    def __post_init__(self) -> None:
        lock = threading.Lock()
        original = self.smtp_server.handler.handle_DATA

        async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
            message_id = next(line.split(b":", 1)[1].strip().decode() for line in envelope.original_content.splitlines()
                              if line.lower().startswith(b"message-id:"))
            peer = tuple(session.peer[:2])
            if self.one_per_connection == "421" and peer in self.connections:
                asyncio.get_running_loop().call_later(0.01, server.transport.close)
                return "421 4.4.2 Closing connection"
            self.connections.add(peer)
            began = time.monotonic()
            with lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                await asyncio.sleep(self.hold)
                reply = await original(server, session, envelope)
                if self.one_per_connection == "close":
                    asyncio.get_running_loop().call_later(0.01, server.transport.close)
                return reply
            finally:
                with lock:
                    self.in_flight -= 1
                    self.spans.setdefault(message_id, []).append((began, time.monotonic()))

        self.smtp_server.handler.handle_DATA = handle_DATA  # type: ignore[method-assign]


def submitted(case_id: str, email: str) -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=case_id, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=date(2026, 12, 20), health_issues=True,
        requester=Party(role="parent", name="Alex Example", email=email))


async def queue_backlog(client: httpx.AsyncClient, *, poison: bool = True) -> None:
    """Every case's emails (parent, LA, health bodies) queued in one commit: the sender finds a backlog."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for n in range(CASES):
            await handlers.acknowledge_request(Envelope.wrap(submitted(f"case-{n}", f"parent{n}@example.org"),
                                                             source="/test", subject=f"case-{n}"), session)
        if poison:  # the parent's name has a line break: that email cannot be rendered, ever
            await handlers.acknowledge_request(Envelope.wrap(submitted(POISON_CASE, "poison@example.org"),
                                                             source="/test", subject=POISON_CASE), session)
            await session.flush()
            recipient = await session.get(Recipient, (POISON_CASE, "requester"))
            assert recipient is not None
            recipient.name = "Alex Example\r\nBcc: everyone@example.org"
            session.add(recipient)
        await session.commit()


async def all_messages(client: httpx.AsyncClient) -> list[Message]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(Message))).all())


async def attempts(client: httpx.AsyncClient) -> list[MessageAttempt]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(MessageAttempt))).all())


def poison_email(message: Message) -> bool:
    return message.case_id == POISON_CASE and message.recipient_role == "requester"


async def settled(client: httpx.AsyncClient) -> list[Message] | None:
    """Every email sent, but the poison one, which is parked."""
    messages = await all_messages(client)
    good = [m for m in messages if not poison_email(m)]
    parked = (await client.get("/v1/ops/dead-letters?source=email_sender", headers=OPS)).json()["items"]
    return messages if good and all(m.status is MessageStatus.sent for m in good) and parked else None


@pytest.fixture
def slow(smtp_server: SmtpServer) -> Slow:
    return Slow(smtp_server)


@pytest.fixture
async def notifications(database_url: str, kafka_bootstrap: str, namespace: str,
                        smtp_server: SmtpServer, slow: Slow) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     smtp_concurrency=4, **POISON)
    async with serve(create_app(settings)) as client:
        yield client


async def test_concurrent_sends_deliver_every_email_exactly_once_while_a_poison_one_is_parked(
        notifications, smtp_server, slow):
    await queue_backlog(notifications)

    messages = await eventually(lambda: settled(notifications), what="the backlog sent and the poison email parked")

    good = [m for m in messages if not poison_email(m)]
    assert len(good) >= 2 * CASES  # the parent and the LA of each case, and the poison case's staff emails
    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in good})  # each once; the poison one never
    log = await attempts(notifications)
    assert Counter(a.message_uuid for a in log) == Counter({m.id: 1 for m in good})
    assert {a.outcome for a in log} == {AttemptOutcome.delivered}
    assert 1 < slow.peak <= 4  # the sends did overlap, never more than the setting allows
    [letter] = (await notifications.get("/v1/ops/dead-letters?source=email_sender", headers=OPS)).json()["items"]
    [poison] = [m for m in messages if poison_email(m)]
    assert (letter["event_id"], letter["reason"], poison.status) == (poison.id, "unrenderable", MessageStatus.pending)


async def test_one_cases_emails_are_sent_one_at_a_time_while_other_cases_overlap(notifications, smtp_server, slow):
    await queue_backlog(notifications, poison=False)

    messages = await eventually(lambda: settled_without_poison(notifications), what="the backlog sent")

    case_of = {m.message_id: m.case_id for m in messages}
    by_case: dict[str, list[tuple[float, float]]] = {}
    for message_id, spans in slow.spans.items():
        by_case.setdefault(case_of[message_id], []).extend(spans)
    for case_id, spans in by_case.items():
        spans.sort()
        assert all(end <= next_began for (_, end), (next_began, _) in itertools.pairwise(spans)), case_id
    assert slow.peak > 1


async def test_each_slot_keeps_its_smtp_connection_so_a_backlog_opens_no_more_connections_than_slots(
        notifications, smtp_server, slow):
    await queue_backlog(notifications, poison=False)

    messages = await eventually(lambda: settled_without_poison(notifications), what="the backlog sent")

    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in messages})
    assert 1 <= len(slow.connections) <= 4 < len(messages)  # smtp_concurrency=4: one connection a slot at most


@pytest.mark.parametrize("closed_by", ["close", "421"])
async def test_a_kept_connection_the_server_has_closed_is_replaced_and_no_email_waits_for_a_retry(
        notifications, smtp_server, slow, closed_by):
    slow.one_per_connection = closed_by
    await queue_backlog(notifications, poison=False)

    messages = await eventually(lambda: settled_without_poison(notifications), what="the backlog sent")

    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in messages})
    assert len(slow.connections) == len(messages)  # a new connection for each, as the server wanted
    log = await attempts(notifications)
    assert [a.outcome for a in log] == [AttemptOutcome.delivered] * len(messages)  # no failure, no retry


async def settled_without_poison(client: httpx.AsyncClient) -> list[Message] | None:
    messages = await all_messages(client)
    return messages if messages and all(m.status is MessageStatus.sent for m in messages) else None


async def test_on_sqlite_the_sender_sends_one_at_a_time_whatever_the_setting(tmp_path: Path, kafka_bootstrap: str,
                                                                           namespace: str, smtp_server, slow):
    settings = NotificationsSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.sqlite'}",
                                     kafka_bootstrap_servers=kafka_bootstrap, kafka_namespace=namespace,
                                     environment="test", smtp_port=smtp_server.port, smtp_concurrency=4)
    async with serve(create_app(settings)) as client:
        await queue_backlog(client, poison=False)

        messages = await eventually(lambda: settled_without_poison(client), what="the backlog sent")

    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in messages})
    assert slow.peak == 1


class Hang:
    """The server takes every DATA and then says nothing until released (a hung relay); counts those held."""

    def __init__(self, smtp_server: SmtpServer) -> None:
        self.held, self.released = 0, threading.Event()
        original = smtp_server.handler.handle_DATA

        async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
            if self.released.is_set():
                return await original(server, session, envelope)
            self.held += 1
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Stalled, try again"

        smtp_server.handler.handle_DATA = handle_DATA  # type: ignore[method-assign]


async def test_a_shutdown_gives_every_send_in_flight_its_grace_and_each_is_sent_once_after_the_restart(
        database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer):
    hang = Hang(smtp_server)
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     smtp_concurrency=4, smtp_timeout_seconds=300, smtp_send_timeout_seconds=300,
                                     smtp_shutdown_grace_seconds=0.2)
    try:
        async with serve(create_app(settings)) as client:
            await queue_backlog(client, poison=False)
            await eventually(lambda: _true(hang.held >= 3), what="three sends in flight")

        hang.released.set()
        async with serve(create_app(settings)) as restarted:
            messages = await eventually(lambda: settled_without_poison(restarted), what="all sent after the restart")
            log = await attempts(restarted)
    finally:
        hang.released.set()

    interrupted = [a for a in log if a.reply == "interrupted by shutdown"]
    assert len(interrupted) >= 3 and {a.outcome for a in interrupted} == {AttemptOutcome.temporary_failure}
    assert not [a for a in log if a.outcome is AttemptOutcome.in_flight]  # every outcome was recorded
    delivered = Counter(a.message_uuid for a in log if a.outcome is AttemptOutcome.delivered)
    assert delivered == Counter({m.id: 1 for m in messages})
    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in messages})


class HoldOne:
    """The server holds the DATA of one addressee until released (a hung delivery) and takes the others."""

    def __init__(self, smtp_server: SmtpServer, address: str) -> None:
        self.held, self.released = False, threading.Event()
        original = smtp_server.handler.handle_DATA

        async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
            if address in envelope.rcpt_tos and not self.released.is_set():
                self.held = True
                while not self.released.is_set():
                    await asyncio.sleep(0.05)
                return "451 4.3.0 Stalled, try again"
            return await original(server, session, envelope)

        smtp_server.handler.handle_DATA = handle_DATA  # type: ignore[method-assign]


async def test_an_email_due_while_another_send_hangs_leaves_without_waiting_for_it(
        database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer):
    hold = HoldOne(smtp_server, "held@example.org")
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     smtp_concurrency=4, smtp_timeout_seconds=300, smtp_send_timeout_seconds=300)
    try:
        async with serve(create_app(settings)) as client:
            async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
                await handlers.acknowledge_request(Envelope.wrap(submitted("case-held", "held@example.org"),
                                                                 source="/test", subject="case-held"), session)
                await session.commit()
            await eventually(lambda: _true(hold.held), what="the first send held by the server")

            async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
                await handlers.acknowledge_request(Envelope.wrap(submitted("case-later", "later@example.org"),
                                                                 source="/test", subject="case-later"), session)
                await session.commit()
            await eventually(lambda: _true(bool(smtp_server.handler.messages(to="later@example.org"))),
                             what="the later case's email delivered while the first send still hangs")
            assert not hold.released.is_set()
    finally:
        hold.released.set()


async def _true(value: bool) -> bool:
    return value


@dataclass
class Looks:
    """Every claim the sender makes, real queries on the real database: counted, those that found nothing too."""

    made: int = 0
    empty: int = 0


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> Looks:
    counted, original = Looks(), message_service.next_due

    async def next_due(*args: Any, **kwargs: Any) -> Any:
        due = await original(*args, **kwargs)
        counted.made += 1
        counted.empty += due is None
        return due

    monkeypatch.setattr(message_service, "next_due", next_due)
    return counted


async def test_a_step_whose_slots_all_find_nothing_asks_the_database_once_not_once_per_slot(
        database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer, looks: Looks):
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     smtp_concurrency=4, run_workers=False)  # the test runs the sender's steps
    async with serve(create_app(settings)) as client:
        step = sender.make_step(client.app.state.runtime)  # type: ignore[attr-defined]

        more = await step()

        assert (more, looks.made, looks.empty) == (False, 1, 1)


async def test_a_backlog_is_sent_whole_and_once_while_the_slots_skip_looks_another_slot_has_just_made_in_vain(
        database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer, slow: Slow, looks: Looks):
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                     smtp_concurrency=4, run_workers=False)
    async with serve(create_app(settings)) as client:
        await queue_backlog(client, poison=False)
        step = sender.make_step(client.app.state.runtime)  # type: ignore[attr-defined]

        while await step():
            pass
        messages = await settled_without_poison(client)

    assert messages is not None
    received = Counter(str(email["Message-ID"]) for email in smtp_server.handler.messages())
    assert received == Counter({m.message_id: 1 for m in messages})
    assert looks.made - looks.empty == len(messages)  # each claim that found one sent it
    assert slow.peak > 1  # the slots did send side by side
