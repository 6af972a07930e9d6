"""The four services as separate uvicorn processes on real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
import math
import time as time_
from collections.abc import Iterator
from dataclasses import dataclass
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

    def url(self, service: str) -> str:
        return self.processes[service].url

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
        for name, process in self.processes.items():  # each running service applies it on its own, soon after
            if process.process is None:
                continue  # killed: it reads the clock's topic to its end when it starts again
            deadline = time_.monotonic() + 30
            while abs(httpx.get(f"{self.url(name)}/v1/ops/clock", headers=OPS, timeout=10).json()["offset_seconds"]
                      - offset) > 0.001:
                if time_.monotonic() > deadline:
                    raise AssertionError(f"{name} did not follow the scenario clock within 30 s")
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
        for service in services:
            self.processes[service].start(wait=False)
        for service in services:
            self.processes[service].wait_until_listening(timeout=120)


@pytest.fixture
def system_env() -> dict[str, dict[str, str]]:
    """More environment per service (by name); a test module overrides this fixture to set some."""
    return {}


@pytest.fixture
def system(postgres: PostgresServer, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer,
           tmp_path: Path, system_env: dict[str, dict[str, str]]) -> Iterator[System]:
    processes: dict[str, ServiceProcess] = {}
    urls: dict[str, str] = {}
    for spec in SERVICES:
        urls[spec.name] = postgres.create_database(spec.name)
        env = common_env(spec.env_prefix, database_url=urls[spec.name], kafka_bootstrap=kafka_bootstrap,
                         namespace=namespace)
        if spec.name == "notifications":
            env |= {"NOTIFICATIONS_SMTP_PORT": str(smtp_server.port)}
        env |= {f"{spec.env_prefix}SCENARIO_CLOCK": SCENARIO_CLOCK}
        env |= system_env.get(spec.name, {})
        processes[spec.name] = ServiceProcess(spec, free_port(), env, tmp_path / "logs" / f"{spec.name}.log")
    system = System(processes, urls, smtp_server)
    asyncio.run(scenario_clock.publish(kafka_bootstrap, namespace=namespace, name=SCENARIO_CLOCK,
                                       offset=clock.CLOCK.offset, set_by="test suite"))
    try:
        system.start(*processes)
        yield system
    finally:
        for process in processes.values():
            process.stop()
        for log in sorted((tmp_path / "logs").glob("*.log")):  # shown by pytest when the test fails
            print(f"===== {log.name} (last lines) =====")
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
