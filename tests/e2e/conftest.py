"""The four services as separate uvicorn processes on real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
import math
import time as time_
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from support import OPS, PORTAL, common_env

from shared import clock, scenario_clock
from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess
from shared.localinfra.smtp import SmtpServer
from shared.testing.plugin import PostgresServer

#: The services follow this scenario clock, set to the test's own clock before they start.
SCENARIO_CLOCK = "suite"


@dataclass
class System:
    processes: dict[str, ServiceProcess]
    database_urls: dict[str, str]
    smtp: SmtpServer
    #: Every process of each service, the one in ``processes`` first (more than one with ``system_replicas``).
    replicas: dict[str, list[ServiceProcess]] = field(default_factory=dict)

    def url(self, service: str, replica: int = 0) -> str:
        return self.replicas[service][replica].url if self.replicas else self.processes[service].url

    def all_processes(self) -> list[ServiceProcess]:
        return [p for group in self.replicas.values() for p in group] if self.replicas else [*self.processes.values()]

    def kill(self, *services: str) -> None:
        for service in services:
            self.processes[service].kill()

    def advance_clock(self, delta: timedelta) -> None:
        """Move the scenario clock through intake's ops API; every service, and this test, follow it."""
        response = httpx.post(f"{self.url('intake')}/v1/ops/clock", headers=OPS,
                              json={"advance": f"PT{math.ceil(delta.total_seconds())}S"}, timeout=30)
        response.raise_for_status()
        offset = response.json()["offset_seconds"]
        clock.CLOCK.set_offset(timedelta(seconds=offset))
        for process in self.all_processes():  # each running service applies it on its own, soon after
            if process.process is None:
                continue  # killed: it reads the clock's topic to its end when it starts again
            deadline = time_.monotonic() + 30
            while abs(httpx.get(f"{process.url}/v1/ops/clock", headers=OPS, timeout=10).json()["offset_seconds"]
                      - offset) > 0.001:
                if time_.monotonic() > deadline:
                    raise AssertionError(f"{process.spec.name} did not follow the scenario clock within 30 s")
                time_.sleep(0.05)

    def after_meeting(self, meeting_id: str) -> date:
        """The provider reports an outcome only once the meeting's day has come: move the clock to 10:00 on
        the London day after it, and answer the meeting's day (the date the mediation took place)."""
        meeting = httpx.get(f"{self.url('scheduling')}/v1/meetings/{meeting_id}", headers=PORTAL, timeout=30)
        day = clock.london_date(datetime.fromisoformat(meeting.raise_for_status().json()["starts_at"]))
        target = datetime.combine(day + timedelta(days=1), time(10), tzinfo=clock.LONDON)
        if target > clock.now():
            self.advance_clock(target - clock.now())
        return day

    def start(self, *services: str) -> None:
        """Start the named services (every replica of each that is not running)."""
        started = [p for service in services for p in (self.replicas.get(service) or [self.processes[service]])
                   if p.process is None or p.process.poll() is not None]
        for process in started:
            process.start(wait=False)
        for process in started:
            process.wait_until_listening(timeout=120)


@pytest.fixture
def system_env() -> dict[str, dict[str, str]]:
    """More environment per service (by name); a test module overrides this fixture to set some."""
    return {}


@pytest.fixture
def system_replicas() -> int:
    """How many processes run each service, on the same databases and consumer groups (a module overrides it)."""
    return 1


@pytest.fixture
def system(postgres: PostgresServer, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer,
           tmp_path: Path, system_env: dict[str, dict[str, str]], system_replicas: int) -> Iterator[System]:
    processes: dict[str, ServiceProcess] = {}
    replicas: dict[str, list[ServiceProcess]] = {}
    urls: dict[str, str] = {}
    for spec in SERVICES:
        urls[spec.name] = postgres.create_database(spec.name)
        env = common_env(spec.env_prefix, database_url=urls[spec.name], kafka_bootstrap=kafka_bootstrap,
                         namespace=namespace)
        if spec.name == "notifications":
            env |= {"NOTIFICATIONS_SMTP_PORT": str(smtp_server.port)}
        env |= {f"{spec.env_prefix}SCENARIO_CLOCK": SCENARIO_CLOCK}
        env |= system_env.get(spec.name, {})
        replicas[spec.name] = [
            ServiceProcess(spec, free_port(), env, tmp_path / "logs" / (
                f"{spec.name}.log" if index == 0 else f"{spec.name}-{index + 1}.log"))
            for index in range(system_replicas)]
        processes[spec.name] = replicas[spec.name][0]
    system = System(processes, urls, smtp_server, replicas)
    asyncio.run(scenario_clock.publish(kafka_bootstrap, namespace=namespace, name=SCENARIO_CLOCK,
                                       offset=clock.CLOCK.offset, set_by="test suite"))
    try:
        system.start(*processes)
        yield system
    finally:
        with ThreadPoolExecutor() as pool:  # side by side: each may take its graceful-shutdown time
            list(pool.map(lambda process: process.stop(), system.all_processes()))
        for log in sorted((tmp_path / "logs").glob("*.log")):  # shown by pytest when the test fails
            print(f"===== {log.name} (last lines) =====")
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
