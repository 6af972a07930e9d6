"""The sender worker: SMTP is slow work, kept out of the consumer loop (aiokafka issue 848).

Up to ``smtp_concurrency`` sends are in flight at once (one on SQLite, which has no ``SKIP LOCKED`` and one
writer). Each *slot* claims its own message in its own transaction, sends it over its own SMTP connection
(kept for the next email for ``smtp_keepalive_seconds``: ``SmtpConnections``) and commits its outcome, then
claims the next: most of one send is waiting (the database, the SMTP server's
replies), and the slots wait side by side. One case's emails still leave one at a time, in the order they
fell due: a slot passes over the cases another slot of this process is sending for. A step ends when every
slot has found nothing due; until then a slot that found nothing looks again every
``IDLE_SLOT_RECHECK_SECONDS``, so one send held by a slow server does not hold back the emails behind it.
A slot does not repeat a look another slot has just made in vain, unless a send has ended since (its case's
next email may be due): at the end of a step one query finds nothing, not one per slot.

A message that fails for a reason that is not an outage (it cannot be rendered,
a header value is refused) is tried again later and parked after bounded tries
(``shared.poison``), while the slots go on with the messages behind it.

Each message is sent and its outcome committed on its own, so a crash can at
worst repeat the deliveries in flight (at most ``smtp_concurrency``), each under
its own Message-ID (RFC 1047). A shutdown lets every send in flight finish
(for ``smtp_shutdown_grace_seconds``) and commits each outcome before stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from notifications.message import service as message_service
from notifications.message.models import Message
from notifications.message.service import SENDER
from notifications.settings import NotificationsSettings
from shared import clock, poison
from shared.db import is_sqlite
from shared.outage import is_outage
from shared.runtime import ServiceRuntime
from shared.worker import Step

#: Messages one slot sends in one step (the worker calls the step again while there is more).
BATCH = 20
#: Seconds a slot that found nothing waits before looking again, while another slot of its step is sending.
IDLE_SLOT_RECHECK_SECONDS = 0.5


@dataclass
class _Claims:
    """This process's sends in flight: their cases wait for them. Claims are taken one at a time."""

    cases: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Counts the sends that have ended (their cases free again): a look that found nothing is worth
    #: repeating at once only after one has.
    released: int = 0

    def release(self, case_id: str) -> None:
        self.cases.discard(case_id)
        self.released += 1


@dataclass
class _Step:
    """One step's slots. The step ends when every slot has found nothing due (or left); until then a slot that
    found nothing looks again shortly. A slot's send may be held for minutes by a slow server, and the step
    lasts as long as it does: the other slots stay to take what falls due meanwhile. Once the step is over no
    slot claims again: what falls due then is the next step's, which does not wait for this one's sends."""

    slots: int
    waiting: set[int] = field(default_factory=set)  # found nothing at their last look
    gone: set[int] = field(default_factory=set)  # finished their batch, or failed
    over: asyncio.Event = field(default_factory=asyncio.Event)
    #: The last look that found nothing: ``_Claims.released`` then, and the loop's time.
    empty_look: tuple[int, float] | None = None

    def worth_looking(self, released: int, now: float) -> bool:
        """False when another slot has just looked and found nothing, and no send has ended since: the same
        query would find nothing again (what commits meanwhile wakes the worker for its next step)."""
        if self.empty_look is None:
            return True
        seen, at = self.empty_look
        return released != seen or now - at >= IDLE_SLOT_RECHECK_SECONDS

    def found_nothing(self, slot: int) -> None:
        self.waiting.add(slot)
        self._check()

    def claimed(self, slot: int) -> None:
        self.waiting.discard(slot)

    def left(self, slot: int) -> None:
        self.gone.add(slot)
        self._check()

    def _check(self) -> None:
        if len(self.waiting | self.gone) >= self.slots:
            self.over.set()


def make_step(runtime: ServiceRuntime) -> Step:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]
    slots = 1 if is_sqlite(runtime.engine) else settings.smtp_concurrency
    claims = _Claims()
    connections = message_service.SmtpConnections(settings)
    runtime.resources.callback(connections.close)  # on shutdown, after the worker has stopped

    async def send_next(connection: AsyncConnection, step: _Step, slot: int) -> bool:
        """Claim one due message, send it and commit its outcome; False when none is due."""
        failure: Exception | None = None
        claimed: str | None = None
        try:
            async with runtime.sessionmaker(bind=connection) as session:
                async with claims.lock:
                    if step.over.is_set():  # every slot found nothing: the step is ending, and a send claimed now
                        return False  # would hold it (and the sends due behind it) until that send ends
                    loop_time = asyncio.get_running_loop().time()
                    if not step.worth_looking(claims.released, loop_time):
                        step.found_nothing(slot)
                        return False
                    due = await message_service.next_due(session, clock.now(), busy_cases=claims.cases)
                    if due is None:
                        step.empty_look = (claims.released, loop_time)
                        step.found_nothing(slot)
                        return False
                    step.claimed(slot)
                    message = due.message
                    key, claimed, template = message.id, message.case_id, message.template
                    claims.cases.add(claimed)
                try:
                    interrupted = await message_service.send_one(session, due, settings, connections)
                    if due.failed_before:  # a success forgets earlier failures; most messages have none
                        await poison.forget(session, SENDER, key)
                    await session.commit()
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    failure, interrupted = exc, False
            if failure is not None:  # recorded before its case is free again: no slot takes it meanwhile
                await poison.item_failed(runtime, worker=SENDER, item_key=key, subject=claimed,
                                         table=Message.__tablename__, item_type=template, exc=failure)
        finally:
            if claimed is not None:
                claims.release(claimed)
        if interrupted:  # the service is stopping: the outcome is safe, now stop
            raise asyncio.CancelledError
        return True

    async def send_batch(step: _Step, slot: int, stopping: asyncio.Event) -> bool:
        """One slot: up to ``BATCH`` messages, one after another, on one connection; True when more may be waiting.

        Each message still has its own transactions; keeping the connection saves a pool checkout (and its
        pre-ping) at each of them.
        """
        try:
            async with runtime.engine.connect() as connection:
                sent = 0
                while sent < BATCH and not stopping.is_set():
                    if await send_next(connection, step, slot):
                        sent += 1
                        continue
                    if step.over.is_set():
                        return False
                    with contextlib.suppress(TimeoutError):  # another slot is sending: look again shortly
                        await asyncio.wait_for(step.over.wait(), IDLE_SLOT_RECHECK_SECONDS)
                return sent == BATCH
        except Exception:
            stopping.set()  # the other slots finish the send they are in, then stop
            raise
        finally:
            step.left(slot)

    async def send_due_messages() -> bool:
        try:
            return await send_step()
        finally:
            connections.close_expired()  # an idle worker closes them too: it polls

    async def send_step() -> bool:
        step, stopping = _Step(slots), asyncio.Event()
        if slots == 1:
            return await send_batch(step, 0, stopping)
        tasks = [asyncio.create_task(send_batch(step, n, stopping), name=f"{SENDER}:{n}") for n in range(slots)]
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:  # shutdown: each send in flight gets its grace and commits its outcome
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            raise
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        return any(not task.cancelled() and task.result() for task in tasks)

    return send_due_messages
