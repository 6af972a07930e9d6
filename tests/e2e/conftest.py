"""The four services as separate uvicorn processes on real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import common_env

from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess
from shared.localinfra.smtp import SmtpServer
from shared.testing.plugin import PostgresServer


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
        env |= system_env.get(spec.name, {})
        processes[spec.name] = ServiceProcess(spec, free_port(), env, tmp_path / "logs" / f"{spec.name}.log")
    system = System(processes, urls, smtp_server)
    try:
        system.start(*processes)
        yield system
    finally:
        for process in processes.values():
            process.stop()
        for log in sorted((tmp_path / "logs").glob("*.log")):  # shown by pytest when the test fails
            print(f"===== {log.name} (last lines) =====")
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
