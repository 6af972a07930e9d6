"""What the benchmarks share: sizes from the environment, statistics, tables, JSON results, real infrastructure.

Everything started here (Kafka, PostgreSQL, uvicorn processes) runs on free ports and is stopped on the way
out, after an error, Ctrl-C or SIGTERM too, so a benchmark can run beside ``make run`` and ``make test``.
Set ``KAFKA_BOOTSTRAP_SERVERS`` or ``TEST_DATABASE_URL`` (an admin URL) to use servers that already run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx

from shared.localinfra.kafka import wait_for_kafka
from shared.localinfra.ports import free_port
from shared.localinfra.postgres import create_database_at
from shared.localinfra.services import ServiceProcess, ServiceSpec
from shared.testing import containers

REPO_ROOT = Path(__file__).resolve().parent.parent
PORTAL = {"Authorization": "Bearer dev-only-southend-portal"}
OPS = {"Authorization": "Bearer dev-only-ops"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def results_dir() -> Path:
    folder = Path(os.environ.get("BENCH_RESULTS_DIR") or REPO_ROOT / "benchmarks" / "results")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_id() -> str:
    """One id per ``make bench`` (shared by the runner with the processes it starts), else one per process."""
    if not os.environ.get("BENCH_RUN_ID"):
        os.environ["BENCH_RUN_ID"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return os.environ["BENCH_RUN_ID"]


# --- statistics -------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), for q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(name: str, latencies_s: list[float], *, duration_s: float, errors: int = 0,
              **extra: Any) -> dict[str, Any]:
    """One row: count, throughput over ``duration_s`` and latency percentiles in milliseconds."""
    ms = [value * 1000 for value in latencies_s]

    def sig(value: float) -> float:  # 4 significant digits: microseconds for the rules, milliseconds for HTTP
        return float(f"{value:.4g}")

    return {
        "name": name,
        "count": len(ms),
        "errors": errors,
        "duration_s": round(duration_s, 3),
        "throughput_per_s": round(len(ms) / duration_s, 2) if duration_s > 0 else None,
        "latency_ms": {
            "p50": sig(percentile(ms, 50)), "p95": sig(percentile(ms, 95)), "p99": sig(percentile(ms, 99)),
            "mean": sig(statistics.fmean(ms)) if ms else None, "min": sig(min(ms)) if ms else None,
            "max": sig(max(ms)) if ms else None,
        },
        **extra,
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.0f}{unit}" if value >= 1000 else f"{value:.4g}{unit}"


def table(title: str, rows: list[dict[str, Any]]) -> str:
    headers = ["", "count", "errors", "throughput/s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    body = [[row["name"], str(row["count"]), str(row["errors"]), _number(row["throughput_per_s"]),
             _number(row["latency_ms"]["p50"]), _number(row["latency_ms"]["p95"]),
             _number(row["latency_ms"]["p99"]), _number(row["latency_ms"]["max"])] for row in rows]
    widths = [max(len(line[i]) for line in [headers, *body]) for i in range(len(headers))]
    lines = [title, "  ".join(h.ljust(widths[0]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(headers))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line)) for line in body]
    return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def write_result(benchmark: str, *, params: dict[str, Any], rows: list[dict[str, Any]],
                 notes: list[str] | None = None) -> Path:
    """``benchmarks/results/<benchmark>-<run id>.json``: parameters, machine, commit and one object per row."""
    path = results_dir() / f"{benchmark}-{run_id()}.json"
    document = {"benchmark": benchmark, "run_id": run_id(), "finished_at": datetime.now(UTC).isoformat(),
                "git_commit": _git_commit(), "machine": machine(), "params": params, "results": rows,
                "notes": notes or []}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def report(benchmark: str, title: str, *, params: dict[str, Any], rows: list[dict[str, Any]],
           notes: list[str] | None = None) -> Path:
    path = write_result(benchmark, params=params, rows=rows, notes=notes)
    print()
    print(table(f"{title}  ({', '.join(f'{k}={v}' for k, v in params.items())})", rows))
    for note in notes or []:
        print(f"  note: {note}")
    print(f"  results: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}", flush=True)
    return path


# --- load ---------------------------------------------------------------------------------------------------

def case_payload(today: date | None = None, **overrides: Any) -> dict[str, Any]:
    """tests/support.py ``case_payload``, with dates relative to today so the 30-day window stays ahead."""
    today = today or datetime.now(UTC).date()
    body: dict[str, Any] = {
        "kind": "mediation",
        "decision": "refusal_to_assess",
        "decision_date": (today - timedelta(days=20)).isoformat(),
        "notice_sent_on": (today - timedelta(days=19)).isoformat(),
        "told_on": (today - timedelta(days=2)).isoformat(),
        "requester": {"role": "parent", "name": "Alex Example", "email": "alex@example.org"},
        "child": {"name": "Sam Example", "date_of_birth": "2015-06-01"},
        "mediation_issues": ["The refusal to carry out an EHC needs assessment"],
    }
    body.update(overrides)
    return body


@dataclass
class Timed:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def duration(self) -> float:
        return self.finished - self.started

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


async def closed_loop(client: httpx.AsyncClient, *, requests: int, concurrency: int, path: str,
                      body: Any, headers: dict[str, str], expect: int = 201,
                      keyed: bool = True) -> tuple[Timed, list[dict[str, Any]]]:
    """``concurrency`` workers each send the next request as soon as their last one is answered.

    Each request has its own Idempotency-Key when ``keyed``. Returns the timings and the decoded answers.
    """
    timed, answers, counter = Timed(), [], iter(range(requests))

    async def worker() -> None:
        for number in counter:
            request_headers = {**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"} if keyed else headers
            begin = time.perf_counter()
            try:
                response = await client.post(path, json=body, headers=request_headers)
            except httpx.HTTPError as exc:
                timed.error(f"request {number}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - begin
            if response.status_code != expect:
                timed.error(f"request {number}: HTTP {response.status_code} {response.text[:200]}")
                continue
            timed.latencies.append(elapsed)
            answers.append(response.json())

    timed.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    timed.finished = time.perf_counter()
    return timed, answers


# --- infrastructure -----------------------------------------------------------------------------------------

class Stop(KeyboardInterrupt):
    """Raised by SIGTERM, handled like Ctrl-C: unwind, stopping everything started."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(f"signal {signum}")


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_stop)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Let clean-up finish: a second Ctrl-C during it would leave a broker or a cluster behind."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Infra:
    """A Kafka broker and a PostgreSQL cluster for one benchmark run (or the ones named in the environment)."""

    def __init__(self) -> None:
        self.log_dir = results_dir() / "logs" / run_id()
        self.bootstrap = ""
        self.admin_url = ""
        self._broker: containers.KafkaLike | None = None
        self._cluster: containers.PostgresLike | None = None
        self._databases: list[str] = []
        self._processes: list[ServiceProcess] = []

    def __enter__(self) -> Infra:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if existing:
            wait_for_kafka(existing)
            self.bootstrap = existing
        else:
            # In containers when an engine answers (SEND_TEST_CONTAINERS, shared.testing.containers).
            print("Starting Apache Kafka and PostgreSQL on free ports ...", flush=True)
            self._broker = containers.start_kafka()
            self.bootstrap = self._broker.bootstrap_servers
        existing = os.environ.get("TEST_DATABASE_URL")
        if existing:
            self.admin_url = existing
        else:
            self._cluster = containers.start_postgres()
            self.admin_url = self._cluster.url("postgres")

    def __exit__(self, *_: object) -> None:
        with uninterrupted():
            for process in reversed(self._processes):
                process.stop()
            self._processes.clear()
            if self._cluster is not None:
                self._cluster.stop()
                self._cluster = None
            elif self._databases:
                _drop_databases(self.admin_url, self._databases)
            self._databases.clear()
            if self._broker is not None:
                self._broker.stop()
                self._broker = None

    def create_database(self, prefix: str) -> str:
        name = f"bench_{prefix}_{uuid.uuid4().hex[:10]}"
        url = create_database_at(self.admin_url, name)
        self._databases.append(name)
        return url

    def service(self, name: str, app_factory: str, env_prefix: str, env: dict[str, str]) -> ServiceProcess:
        """Start one uvicorn process on a free port; it is stopped with the infrastructure, or by ``stop``."""
        process = ServiceProcess(ServiceSpec(name, app_factory, env_prefix, 0), free_port(),
                                 {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
                                  **env}, self.log_dir / f"{name}.log")
        self._processes.append(process)
        process.start(wait=False)
        return process

    def stop(self, process: ServiceProcess) -> None:
        with uninterrupted():
            process.stop()
            if process in self._processes:
                self._processes.remove(process)

    @staticmethod
    def new_namespace() -> str:
        """A topic and consumer-group prefix of its own for each benchmark: no benchmark sees another's events."""
        return f"bench{uuid.uuid4().hex[:8]}."

    def service_env(self, prefix: str, *, database_url: str, namespace: str, **more: str) -> dict[str, str]:
        return {
            f"{prefix}ENVIRONMENT": "development",
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}KAFKA_NAMESPACE": namespace,
            f"{prefix}LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            **{f"{prefix}{key.upper()}": value for key, value in more.items()},
        }


def _drop_databases(admin_url: str, names: list[str]) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for name in names:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, drop()).result()
        except Exception as exc:  # a leftover database is not worth hiding the results for
            print(f"could not drop the benchmark databases {names}: {exc}", file=sys.stderr)


async def wait_ready(process: ServiceProcess, *, timeout: float = 120.0) -> None:
    """Until /readyz answers 200 (database and Kafka reachable, background tasks running)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=process.url, timeout=5) as client:
        while True:
            if process.process is None or process.process.poll() is not None:
                raise RuntimeError(f"{process.spec.name} exited; see {process.log_path}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{process.spec.name} not ready within {timeout}s; see {process.log_path}")
            await asyncio.sleep(0.2)
