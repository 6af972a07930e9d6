"""End to end: mediation requests submitted to intake, until scheduling has booked each one's meeting.

Intake and scheduling run as separate uvicorn processes against one Kafka broker and one PostgreSQL server
(a database each). For every case the benchmark records:

- ``submitted -> booked in scheduling``: from just before the POST to the ``booked`` change scheduling
  recorded on the meeting (intake -> outbox relay -> Kafka -> scheduling's consumer -> mediator assignment);
- ``submitted -> meeting_scheduled in intake``: until intake lists the case as ``meeting_scheduled`` (the way
  back, scheduling -> Kafka -> intake's timeline), polled every ``BENCH_PIPELINE_POLL_INTERVAL`` seconds with
  one list request, so this latency is coarser by up to that interval.

Then the catch-up rate (``BENCH_PIPELINE_BACKLOG`` cases, 0 to skip): scheduling is stopped, that many
cases are submitted and published to Kafka, scheduling is started again, and each case's booking is timed
from the moment scheduling answers /readyz again.

``BENCH_PIPELINE_WARMUP`` cases go through first, unmeasured, so consumer-group joins are not counted. The
baseline (``BENCH_BASELINES=0`` to skip) is a raw aiokafka produce -> consume round trip, one message at a
time, with the services' producer settings (acks=all, idempotent): the floor of one hop.

The development pool of mediators takes about 12 meetings a week for Southend; the benchmark adds
``BENCH_MEDIATORS`` (40) more, weekdays and 5 meetings a week each, like a real provider's pool: about 200
meetings a week. A run larger than the pool can take in the 30-day window books later meetings after the
30-day date (``late``, noted) and, past the 90-day horizon, not at all (referred without a meeting: ``not
booked``, counted as errors); a 1,000-case run needs about 70. Each run starts with an empty diary.

``python -m benchmarks.pipeline``
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.common import (
    OPS,
    PORTAL,
    Infra,
    Timed,
    case_payload,
    env_float,
    env_int,
    install_signal_handlers,
    report,
    summarise,
    wait_ready,
)
from benchmarks.intake_api import drain_time
from benchmarks.resources import PeakRss
from scheduling.mediator import service as mediator_service
from scheduling.mediator.rules import Needs
from scheduling.meeting.rules import earliest_meeting_day
from shared.calendar import DEFAULT_CALENDAR
from shared.db import create_engine
from shared.events.cases import ReferralSubmittedV1
from shared.events.meetings import TimelineMeetingScheduledV1
from shared.localinfra.services import ServiceProcess


async def kafka_round_trip(bootstrap: str, topic: str, *, messages: int, warmup: int = 10) -> Timed:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    partition = TopicPartition(topic, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed")
    await producer.start()
    try:
        consumer.assign([partition])
        await consumer.start()
        try:
            timed = Timed()
            payload = b"x" * 1024  # about the size of a case.submitted event
            for number in range(warmup + messages):
                if number == warmup:
                    timed.started = time.perf_counter()
                begin = time.perf_counter()
                await producer.send_and_wait(topic, payload, key=str(number).encode())
                record = await asyncio.wait_for(consumer.getone(partition), timeout=30)
                if number >= warmup:
                    timed.latencies.append(time.perf_counter() - begin)
                assert record.key == str(number).encode(), "records out of order"
            timed.finished = time.perf_counter()
            return timed
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


async def listed_as_booked(client: httpx.AsyncClient) -> set[str]:
    """Every case intake lists as ``meeting_scheduled`` (newest first, paged)."""
    found: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"status": "meeting_scheduled", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/cases", params=params, headers=PORTAL)).raise_for_status().json()
        found.update(item["id"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


async def submit(client: httpx.AsyncClient, *, cases: int, concurrency: int, sent: dict[str, float],
                 timed: Timed, answered: dict[str, float] | None = None) -> None:
    counter = iter(range(cases))
    body = case_payload()

    async def worker() -> None:
        for number in counter:
            at, begin = time.time(), time.perf_counter()
            try:
                response = await client.post("/v1/cases", json=body, headers={
                    **PORTAL, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"})
            except httpx.HTTPError as exc:
                timed.error(f"case {number}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code != 201:
                timed.error(f"case {number}: HTTP {response.status_code} {response.text[:200]}")
                continue
            timed.latencies.append(time.perf_counter() - begin)
            case_id = response.json()["id"]
            sent[case_id] = at
            if answered is not None:
                answered[case_id] = time.time()

    timed.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    timed.finished = time.perf_counter()


async def watch(client: httpx.AsyncClient, sent: dict[str, float], seen: dict[str, float], *,
                submitted: asyncio.Event, timeout: float, interval: float) -> None:
    """Record when each submitted case is first listed as booked; stop when all are, or ``timeout`` after the
    last submission."""
    deadline: float | None = None
    while True:
        now = time.time()
        for case_id in await listed_as_booked(client):
            if case_id in sent and case_id not in seen:
                seen[case_id] = now
        if submitted.is_set():
            deadline = deadline or time.monotonic() + timeout
            if len(seen) >= len(sent) or time.monotonic() > deadline:
                return
        await asyncio.sleep(interval)


async def booked_at(client: httpx.AsyncClient, case_ids: list[str]) -> dict[str, tuple[float, bool]]:
    """Scheduling's own record of each booking: when its ``booked`` change was made, and whether it is late."""
    found: dict[str, tuple[float, bool]] = {}
    gate = asyncio.Semaphore(4)

    async def one(case_id: str) -> None:
        async with gate:
            page = (await client.get(f"/v1/cases/{case_id}/meetings", headers=OPS)).raise_for_status().json()
        for meeting in page["items"]:
            booked = next((c for c in meeting["changes"] if c["change"] == "booked"), None)
            if booked is not None:
                found[case_id] = (datetime.fromisoformat(booked["at"]).timestamp(), meeting["late"])
                return

    await asyncio.gather(*(one(case_id) for case_id in case_ids))
    return found


async def wait_booked(client: httpx.AsyncClient, case_ids: set[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not case_ids <= await listed_as_booked(client):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(case_ids)} cases were not all booked within {timeout}s")
        await asyncio.sleep(0.2)


async def seed_pool(ops: httpx.AsyncClient, mediators: int) -> None:
    """Add ``mediators`` independent mediators, weekdays 09:30-16:30 and 5 meetings a week each, to the
    development provider's pool (beside the 5 seeded ones): a pool sized like a real provider's."""
    for number in range(mediators):
        mediator_id = f"bench-med-{number:04d}"
        (await ops.put(f"/v1/admin/mediators/{mediator_id}", headers=OPS, json={
            "id": mediator_id, "provider_id": "kids-send-mediation", "name": f"Bench Mediator {number}",
            "employer_kind": "independent", "employer_name": "KIDS", "capacity_per_week": 5,
            "languages": ["en"], "areas": ["E06000033"]})).raise_for_status()
        (await ops.put(f"/v1/admin/mediators/{mediator_id}/availability", headers=OPS, json={
            "mediator_id": mediator_id, "windows": [
                {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "09:30", "end_time": "16:30"}]})
         ).raise_for_status()


async def booking_search(database_url: str, *, searches: int) -> Timed:
    """The unavoidable per-item work of a booking, alone: ``mediator_service.assign`` (load the pool and its
    diaries, rank, find a slot) on scheduling's database as the run left it, nothing booked."""
    engine = create_engine(database_url)
    sessionmaker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    needs = Needs(provider_id="kids-send-mediation", la_code="E06000033")
    earliest = earliest_meeting_day(datetime.now(UTC).date(), DEFAULT_CALENDAR)
    timed = Timed()
    try:
        timed.started = time.perf_counter()
        for _ in range(searches):
            begin = time.perf_counter()
            async with sessionmaker() as session:
                await mediator_service.assign(session, needs, earliest=earliest, latest=earliest + timedelta(days=20),
                                              timezone="Europe/London")
            timed.latencies.append(time.perf_counter() - begin)
        timed.finished = time.perf_counter()
    finally:
        await engine.dispose()
    return timed


async def pool_capacity(ops: httpx.AsyncClient, case_id: str) -> int | None:
    response = await ops.get(f"/v1/cases/{case_id}/capacity", headers=OPS)
    return int(response.json()["bookable_meetings"]) if response.status_code == 200 else None


def run(infra: Infra) -> list[dict[str, Any]]:
    params = {"cases": env_int("BENCH_PIPELINE_CASES", 30), "concurrency": env_int("BENCH_PIPELINE_CONCURRENCY", 4),
              "warmup": env_int("BENCH_PIPELINE_WARMUP", 3), "timeout_s": env_float("BENCH_PIPELINE_TIMEOUT", 180),
              "backlog": env_int("BENCH_PIPELINE_BACKLOG", env_int("BENCH_BACKLOG", 30)),
              "poll_interval_s": env_float("BENCH_PIPELINE_POLL_INTERVAL", 0.1),
              "kafka_messages": env_int("BENCH_KAFKA_MESSAGES", 200), "baselines": env_int("BENCH_BASELINES", 1),
              "mediators": env_int("BENCH_MEDIATORS", 40)}
    namespace = infra.new_namespace()
    processes: list[ServiceProcess] = []
    databases: dict[str, str] = {}
    try:
        for name, prefix in (("intake", "INTAKE_"), ("scheduling", "SCHEDULING_")):
            databases[name] = infra.create_database(name)
            env = infra.service_env(prefix, database_url=databases[name], namespace=namespace)
            processes.append(infra.service(name, f"{name}.main:create_app", prefix, env))
        rows, notes = asyncio.run(measure(infra, processes[0], processes[1], namespace, params, databases))
    finally:
        for process in processes:
            infra.stop(process)
    report("pipeline", "End to end: submitted to intake -> booked by scheduling", params=params, rows=rows, notes=notes)
    return rows


async def measure(infra: Infra, intake: ServiceProcess, scheduling: ServiceProcess, namespace: str,
                  params: dict[str, Any], databases: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    await asyncio.gather(wait_ready(intake), wait_ready(scheduling))
    if params["baselines"]:
        timed = await kafka_round_trip(infra.bootstrap, f"{namespace}bench.round-trip", messages=params["kafka_messages"])
        rows.append(summarise("baseline: Kafka produce -> consume", timed.latencies, duration_s=timed.duration))

    async with httpx.AsyncClient(base_url=intake.url, timeout=60) as portal, \
            httpx.AsyncClient(base_url=scheduling.url, timeout=60) as ops:
        await seed_pool(ops, params["mediators"])
        if params["warmup"]:
            warm_sent: dict[str, float] = {}
            await submit(portal, cases=params["warmup"], concurrency=1, sent=warm_sent, timed=Timed())
            await wait_booked(portal, set(warm_sent), timeout=params["timeout_s"])

        sent: dict[str, float] = {}
        answered: dict[str, float] = {}
        seen: dict[str, float] = {}
        posted = Timed()
        submitted = asyncio.Event()
        watcher = asyncio.create_task(watch(portal, sent, seen, submitted=submitted, timeout=params["timeout_s"],
                                            interval=params["poll_interval_s"]))
        async with PeakRss([intake, scheduling]) as rss:
            try:
                await submit(portal, cases=params["cases"], concurrency=params["concurrency"], sent=sent,
                             timed=posted, answered=answered)
            finally:
                submitted.set()
            await watcher
        booked = await booked_at(ops, list(sent))
        if sent:
            room = await pool_capacity(ops, next(iter(sent)))
            notes.append(f"pool: {params['mediators']} + 5 seeded mediators; after the run, the first case's window "
                         f"still holds {room} bookable meetings (GET /v1/cases/{{id}}/capacity)")

    rows.append(summarise("intake: POST /v1/cases", posted.latencies, duration_s=posted.duration,
                          errors=posted.errors, rss_mib_peak=rss.peak))
    notes.extend(f"submission failed: {sample}" for sample in posted.error_samples)
    first = min(sent.values(), default=0.0)
    to_booked = [at - sent[case_id] for case_id, (at, _) in booked.items()]
    rows.append(summarise("submitted -> booked in scheduling", to_booked,
                          duration_s=max((at for at, _ in booked.values()), default=first) - first,
                          errors=len(sent) - len(booked)))
    to_seen = [at - sent[case_id] for case_id, at in seen.items()]
    rows.append(summarise("submitted -> meeting_scheduled in intake", to_seen,
                          duration_s=max(seen.values(), default=first) - first, errors=len(sent) - len(seen)))
    rows.extend(await hops(databases, sent, answered, {case_id: at for case_id, (at, _) in booked.items()}))
    if len(booked) < len(sent):
        notes.append(f"{len(sent) - len(booked)} of {len(sent)} cases not booked within {params['timeout_s']} s "
                     "(counted as errors): more cases than the mediator pool can take, or a stalled consumer")
    late = sum(1 for _, is_late in booked.values() if is_late)
    if late:
        notes.append(f"{late} of {len(booked)} meetings booked after the 30-day date (the pool is full)")
    notes.append("throughput: cases per second from the first submission to the last booking")
    if params["backlog"]:
        rows.append(await catch_up(intake, scheduling, params, notes))
    if params["baselines"]:
        timed = await booking_search(databases["scheduling"], searches=env_int("BENCH_BOOKING_SEARCHES", 50))
        rows.append(summarise("baseline: one booking search alone", timed.latencies, duration_s=timed.duration))
    return rows, notes


async def catch_up(intake: ServiceProcess, scheduling: ServiceProcess, params: dict[str, Any],
                   notes: list[str]) -> dict[str, Any]:
    """Stop scheduling, build a backlog on Kafka, start it again: how fast does it book its way through?"""
    await asyncio.to_thread(scheduling.stop)
    async with httpx.AsyncClient(base_url=intake.url, timeout=60) as portal, \
            httpx.AsyncClient(base_url=scheduling.url, timeout=60) as ops:
        sent: dict[str, float] = {}
        posted = Timed()
        await submit(portal, cases=params["backlog"], concurrency=params["concurrency"], sent=sent, timed=posted)
        if await drain_time(portal, timeout=params["timeout_s"]) is None:
            notes.append("catch-up: intake's outbox was not empty before scheduling restarted")
        restarted = time.perf_counter()
        await asyncio.to_thread(scheduling.start, wait=False)
        await wait_ready(scheduling)
        ready = time.time()
        notes.append(f"catch-up: scheduling answered /readyz {time.perf_counter() - restarted:.1f} s after its start; "
                     f"latency and throughput count from then")
        with contextlib.suppress(TimeoutError):  # what was not booked is counted below
            await wait_booked(portal, set(sent), timeout=params["timeout_s"])
        booked = await booked_at(ops, list(sent))
    late = sum(1 for _, is_late in booked.values() if is_late)
    if late:
        notes.append(f"catch-up: {late} of {len(booked)} meetings booked after the 30-day date (the pool is full)")
    return summarise("catch-up: backlog booked after restart", [max(0.0, at - ready) for at, _ in booked.values()],
                     duration_s=max((at for at, _ in booked.values()), default=ready) - ready,
                     errors=len(sent) - len(booked) + posted.errors)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


async def _rows(url: str, query: str, *args: Any) -> list[Any]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def hops(databases: dict[str, str], sent: dict[str, float], answered: dict[str, float],
               booked: dict[str, float]) -> list[dict[str, Any]]:
    """Each case's way, hop by hop, from the times the services recorded themselves (one clock: one machine).

    intake's outbox row (``created_at``: in the request's transaction; ``published_at``: once the broker
    acknowledged), scheduling's inbox row (``handled_at``: when its consumer began the handler), the meeting's
    ``booked`` change, and the same again for ``meeting.scheduled`` on the way back to intake. The events
    timed are the copies each consumer reads: ``referral.submitted`` (scheduling) and
    ``timeline.meeting_scheduled`` (intake).
    """
    cases = list(sent)
    out_intake = await _rows(databases["intake"], "SELECT event_id, subject, created_at, published_at FROM outbox_events "
                             "WHERE type = $1 AND subject = ANY($2::text[])", ReferralSubmittedV1.type, cases)
    out_sched = await _rows(databases["scheduling"], "SELECT event_id, subject, created_at, published_at FROM "
                            "outbox_events WHERE type = $1 AND subject = ANY($2::text[])", TimelineMeetingScheduledV1.type,
                            cases)
    ids = [row["event_id"] for row in out_intake]
    back_ids = [row["event_id"] for row in out_sched]
    in_sched = {row["event_id"]: _epoch(row["handled_at"]) for row in await _rows(
        databases["scheduling"], "SELECT event_id, handled_at FROM inbox_events WHERE event_id = ANY($1::text[])", ids)}
    in_intake = {row["event_id"]: _epoch(row["handled_at"]) for row in await _rows(
        databases["intake"], "SELECT event_id, handled_at FROM inbox_events WHERE event_id = ANY($1::text[])", back_ids)}
    spans: dict[str, list[float]] = {name: [] for name in HOPS}
    for row in out_intake:
        case_id, created, published = row["subject"], _epoch(row["created_at"]), row["published_at"]
        spans["hop: POST sent -> answered (commit included)"].append(answered[case_id] - sent[case_id])
        if published is None:
            continue
        published_s = _epoch(published)
        spans["hop: intake outbox recorded -> published (broker ack included)"].append(published_s - created)
        spans["hop: intake answered -> outbox published"].append(published_s - answered[case_id])
        handled = in_sched.get(row["event_id"])
        if handled is None:
            continue
        spans["hop: published -> scheduling consumer began handler"].append(handled - published_s)
        spans["one Kafka hop: intake committed (answered) -> scheduling handler began"].append(
            handled - answered[case_id])
        if case_id in booked:
            spans["hop: scheduling handler began -> booked recorded"].append(booked[case_id] - handled)
    for row in out_sched:
        if row["published_at"] is None:
            continue
        published_s = _epoch(row["published_at"])
        spans["back: scheduling outbox recorded -> published"].append(published_s - _epoch(row["created_at"]))
        handled = in_intake.get(row["event_id"])
        if handled is not None:
            spans["back: published -> intake consumer began handler"].append(handled - published_s)
    return [summarise(name, values, duration_s=0.0) for name, values in spans.items()]


HOPS = (
    "hop: POST sent -> answered (commit included)",
    "hop: intake outbox recorded -> published (broker ack included)",
    "hop: intake answered -> outbox published",
    "hop: published -> scheduling consumer began handler",
    "hop: scheduling handler began -> booked recorded",
    "one Kafka hop: intake committed (answered) -> scheduling handler began",
    "back: scheduling outbox recorded -> published",
    "back: published -> intake consumer began handler",
)


def main() -> None:
    install_signal_handlers()
    with Infra() as infra:
        run(infra)


if __name__ == "__main__":
    main()
