"""Idle CPU and memory (RSS) of each service, read from ``/proc`` (Linux).

The four services run as uvicorn processes on their embedded defaults (SQLite, the development seed data)
against the run's Kafka broker, with nothing to do. After ``BENCH_IDLE_SETTLE`` seconds (start-up, consumer
group joins) each process's CPU time is read twice, ``BENCH_IDLE_SECONDS`` apart: idle CPU is the share of
one core it used in between. RSS is read at the end of that window ("at rest").

``sample_processes`` is also what the other benchmarks use to report RSS under load.

``python -m benchmarks.resources``
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import Infra, env_float, install_signal_handlers, results_dir, run_id, wait_ready, write_result
from shared.localinfra.services import SERVICES, ServiceProcess

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    """Resident set size in MiB (``/proc/<pid>/statm`` field 2)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def pid_of(process: ServiceProcess) -> int:
    assert process.process is not None, f"{process.spec.name} is not running"
    return process.process.pid


async def idle_cpu(processes: list[ServiceProcess], *, seconds: float) -> dict[str, dict[str, float]]:
    """Per service: percent of one core used over ``seconds`` of doing nothing, and RSS at the end."""
    before = {p.spec.name: cpu_seconds(pid_of(p)) for p in processes}
    begin = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - begin
    return {p.spec.name: {"idle_cpu_percent": round(100 * (cpu_seconds(pid_of(p)) - before[p.spec.name]) / elapsed, 3),
                          "rss_mib_at_rest": round(rss_mib(pid_of(p)), 1)} for p in processes}


class PeakRss:
    """Samples each process's RSS every ``interval`` seconds while a benchmark runs: the peak is "under load"."""

    def __init__(self, processes: list[ServiceProcess], *, interval: float = 0.5) -> None:
        self._processes = processes
        self._interval = interval
        self.peak: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            for process in self._processes:
                if process.process is not None and process.process.poll() is None:
                    name = process.spec.name
                    self.peak[name] = max(self.peak.get(name, 0.0), round(rss_mib(process.process.pid), 1))
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def run(infra: Infra) -> dict[str, dict[str, float]]:
    params = {"settle_s": env_float("BENCH_IDLE_SETTLE", 10), "seconds": env_float("BENCH_IDLE_SECONDS", 30)}
    namespace = infra.new_namespace()
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as folder:
        processes = []
        for spec in SERVICES:
            env = infra.service_env(spec.env_prefix, database_url=f"sqlite+aiosqlite:///{folder}/{spec.name}.sqlite",
                                    namespace=namespace)
            processes.append(infra.service(spec.name, spec.app_factory, spec.env_prefix, env))
        try:
            async def measure() -> dict[str, dict[str, float]]:
                await asyncio.gather(*(wait_ready(p) for p in processes))
                await asyncio.sleep(params["settle_s"])
                return await idle_cpu(processes, seconds=params["seconds"])

            found = asyncio.run(measure())
        finally:
            for process in processes:
                infra.stop(process)
    load = os.getloadavg()[0]
    rows = [{"name": name, **values} for name, values in found.items()]
    write_result("resources", params={**params, "load_1m": round(load, 2)}, rows=rows)
    print(f"\nIdle services on embedded defaults (SQLite), {params['seconds']:.0f} s after {params['settle_s']:.0f} s "
          f"settling; load average {load:.2f}")
    print(f"{'service':<14} {'idle CPU % of a core':>21} {'RSS MiB':>8}")
    for row in rows:
        print(f"{row['name']:<14} {row['idle_cpu_percent']:>21.2f} {row['rss_mib_at_rest']:>8.1f}")
    print(f"  results: {results_dir() / f'resources-{run_id()}.json'}", flush=True)
    return found


def main() -> None:
    install_signal_handlers()
    with Infra() as infra:
        run(infra)


if __name__ == "__main__":
    main()
