"""Idle CPU and memory (RSS) of each service, read from ``/proc`` (Linux).

The four services run as uvicorn processes on their embedded defaults (SQLite, the development seed data)
against the run's Kafka broker, with nothing to do. After ``BENCH_IDLE_SETTLE`` seconds (start-up, consumer
group joins, and the workers' safety-net polls backing off to their idle ceiling, ``shared.worker``: about
15 s) each process's CPU time is read twice, ``BENCH_IDLE_SECONDS`` apart: idle CPU is the share of one
core it used in between. RSS is read at the end of that window ("at rest").

``sample_processes`` is also what the other benchmarks use to report RSS under load.

``python -m benchmarks.resources``
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Self

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


def _process_table() -> dict[int, tuple[int, float, float]]:
    """Every process: its parent, its own CPU seconds, and its reaped children's (``stat`` fields 4, 14-17)."""
    table: dict[int, tuple[int, float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS,
                             (int(fields[13]) + int(fields[14])) / TICKS)
    return table


def listening_pid(port: int) -> int | None:
    """The process that listens on TCP ``port`` on this machine (``/proc/net/tcp*`` and each ``/proc/<pid>/fd``)."""
    inodes: set[str] = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(name).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{entry}/fd")):
                return int(entry)
    return None


def cpu_by_part(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part: a root process with its descendants (live ones, and the exited ones
    it reaped). ``benchmark`` is this process alone (it also runs the SMTP server), though it started the rest."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        if pid not in table:
            return 0.0
        _, own, reaped = table[pid]
        return own + reaped + sum(tree(child) for child in children.get(pid, ()))

    used = {name: tree(pid) for name, pid in roots.items()}
    used["benchmark"] = table[os.getpid()][1] if os.getpid() in table else 0.0
    return used


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


SETTLE_S = 20.0


class RssSeries:
    """Every service's RSS each ``interval`` seconds, per process (a restart starts a new series); summed up for the
    longest-lived process of each service."""

    def __init__(self, processes: list[ServiceProcess], *, interval: float = 1.0) -> None:
        self._processes = processes
        self._interval = interval
        self.series: dict[str, list[tuple[int, float, float]]] = {p.spec.name: [] for p in processes}  # (pid, t, MiB)
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            now = time.monotonic()
            for process in self._processes:
                running = process.process
                if running is not None and running.poll() is None:
                    with contextlib.suppress(OSError):
                        mib = rss_mib(running.pid)
                        if mib > 0:  # 0: it has exited, not yet reaped (a stop under way), and holds no memory
                            self.series[process.spec.name].append((running.pid, now, mib))
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, samples in self.series.items():
            if not samples:
                continue
            # The process that ran longest: a service restarted for a drain lives a few seconds, most of them
            # importing and warming up, which says nothing about whether its memory stays flat.
            lives: dict[int, list[tuple[float, float]]] = {}
            for pid, t, mib in samples:
                lives.setdefault(pid, []).append((t, mib))
            mine = max(lives.values(), key=lambda life: life[-1][0] - life[0][0])
            # From SETTLE_S after the process began: a fresh interpreter's first seconds are imports, not use.
            mine = [(t, mib) for t, mib in mine if t >= mine[0][0] + SETTLE_S] or mine
            half = mine[len(mine) // 2:]
            out[name] = {"start_mib": round(mine[0][1], 1), "peak_mib": round(max(m for _, m in mine), 1),
                         "end_mib": round(mine[-1][1], 1), "slope_mib_per_min": _slope(half),
                         "minutes": round((mine[-1][0] - mine[0][0]) / 60, 2), "samples": len(mine),
                         "restarts": len({pid for pid, _, _ in samples}) - 1}
        return out


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope in MiB per minute (None with fewer than 3 points)."""
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    return round(60 * sum((t - mean_t) * (m - mean_m) for t, m in points) / var, 3)


class PeakRss(RssSeries):
    """The series sampled every 0.5 s while a benchmark loads the services, read as its peak ("under load")."""

    def __init__(self, processes: list[ServiceProcess], *, interval: float = 0.5) -> None:
        super().__init__(processes, interval=interval)

    @property
    def peak(self) -> dict[str, float]:
        return {name: round(max(mib for _, _, mib in samples), 1) for name, samples in self.series.items() if samples}


def run(infra: Infra) -> dict[str, dict[str, float]]:
    params = {"settle_s": env_float("BENCH_IDLE_SETTLE", 25), "seconds": env_float("BENCH_IDLE_SECONDS", 60)}
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
