"""Intake API: POST /v1/cases throughput and latency against real PostgreSQL and Kafka.

Intake runs as its own uvicorn process (consumer, outbox relay and workers included, as deployed); a
closed loop of ``BENCH_INTAKE_CONCURRENCY`` clients submits ``BENCH_INTAKE_REQUESTS`` mediation requests,
each with its own Idempotency-Key, after ``BENCH_INTAKE_WARMUP`` unmeasured ones. The baseline
(``BENCH_BASELINES=0`` to skip) is a bare FastAPI insert on the same PostgreSQL (benchmarks/baseline_app.py),
driven the same way. Afterwards, the time until intake's outbox has published every event is reported.

``python -m benchmarks.intake_api``
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from benchmarks.common import (
    PORTAL,
    Infra,
    case_payload,
    closed_loop,
    env_float,
    env_int,
    install_signal_handlers,
    report,
    summarise,
    wait_ready,
)
from benchmarks.resources import PeakRss, cpu_seconds, pid_of
from shared.localinfra.services import ServiceProcess

BACKLOG = re.compile(r'^outbox_backlog\{service="intake"\} ([0-9.e+]+)$', re.MULTILINE)


async def outbox_backlog(client: httpx.AsyncClient) -> int:
    match = BACKLOG.search((await client.get("/metrics")).text)
    return int(float(match.group(1))) if match else -1


async def drain_time(client: httpx.AsyncClient, *, timeout: float) -> float | None:
    """Seconds until intake's outbox holds nothing unpublished (None: not within ``timeout``)."""
    begin = time.perf_counter()
    while time.perf_counter() - begin < timeout:
        if await outbox_backlog(client) == 0:
            return time.perf_counter() - begin
        await asyncio.sleep(0.05)
    return None


def run(infra: Infra) -> list[dict[str, Any]]:
    params = {"requests": env_int("BENCH_INTAKE_REQUESTS", 500), "concurrency": env_int("BENCH_INTAKE_CONCURRENCY", 8),
              "warmup": env_int("BENCH_INTAKE_WARMUP", 20), "baselines": env_int("BENCH_BASELINES", 1)}
    intake = infra.service("intake", "intake.main:create_app", "INTAKE_",
                           infra.service_env("INTAKE_", database_url=infra.create_database("intake"),
                                             namespace=infra.new_namespace()))
    baseline = None
    if params["baselines"]:
        baseline = infra.service("baseline", "benchmarks.baseline_app:create_app", "BENCH_BASELINE_",
                                 {"BENCH_BASELINE_DATABASE_URL": infra.create_database("baseline")})
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    body = case_payload()

    async def drive(name: str, server: ServiceProcess, path: str, headers: dict[str, str]) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=server.url, timeout=60,
                                   limits=httpx.Limits(max_connections=params["concurrency"] * 2))
        await closed_loop(client, requests=params["warmup"], concurrency=params["concurrency"], path=path,
                          body=body, headers=headers)
        cpu_before = cpu_seconds(pid_of(server))
        timed, _ = await closed_loop(client, requests=params["requests"], concurrency=params["concurrency"],
                                     path=path, body=body, headers=headers)
        cpu = cpu_seconds(pid_of(server)) - cpu_before
        rows.append(summarise(name, timed.latencies, duration_s=timed.duration, errors=timed.errors))
        # The server's own CPU per request (user + system, its outbox relay included): unlike req/s, it hardly
        # moves when something else shares the cores, so it says where a slower run came from.
        rows[-1]["server_cpu_ms_per_request"] = round(1000 * cpu / max(1, params["requests"]), 3)
        notes.append(f"{name}: the server used {rows[-1]['server_cpu_ms_per_request']} ms of CPU per request")
        notes.extend(f"{name}: {sample}" for sample in timed.error_samples)
        return client

    async def measure() -> None:
        await wait_ready(intake)
        if baseline is not None:
            await wait_ready(baseline)
            client = await drive("baseline: bare FastAPI insert", baseline, "/items", {})
            await client.aclose()
        async with PeakRss([intake]) as rss:
            client = await drive("intake: POST /v1/cases", intake, "/v1/cases", PORTAL)
        rows[-1]["rss_mib_peak"] = rss.peak.get("intake")
        try:
            drained = await drain_time(client, timeout=env_float("BENCH_INTAKE_DRAIN_TIMEOUT", 60))
        finally:
            await client.aclose()
        rows[-1]["outbox_drained_after_s"] = None if drained is None else round(drained, 3)
        notes.append("intake's outbox published every event "
                     + ("only after the timeout" if drained is None else f"{drained:.2f} s after the last answer"))

    try:
        asyncio.run(measure())
    finally:
        for process in (intake, baseline):
            if process is not None:
                infra.stop(process)
    report("intake_api", "Intake API: POST /v1/cases", params=params, rows=rows, notes=notes)
    return rows


def main() -> None:
    install_signal_handlers()
    with Infra() as infra:
        run(infra)


if __name__ == "__main__":
    main()
