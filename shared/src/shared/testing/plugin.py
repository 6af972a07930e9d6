"""pytest plugin: real Kafka, PostgreSQL and SMTP for the suite (registered by ``send-shared``).

- ``kafka_bootstrap``: a broker for the whole session, or KAFKA_BOOTSTRAP_SERVERS;
- ``postgres``: a throw-away cluster for the session, or TEST_DATABASE_URL (an admin URL);
- ``database_url``: a fresh, empty database per test;
- ``smtp_server``: a fresh SMTP server per test writing .eml files to tmp_path (``handler.script()`` and
  ``handler.messages()`` either way; ``@pytest.mark.smtp_in_process`` when a test swaps the handler itself);
- all three run through testcontainers when a Docker-compatible engine answers (``SEND_TEST_CONTAINERS``,
  images by ``SEND_*_IMAGE``: shared.testing.containers), else as local processes (CI's path);
- the project clock: every test starts at the suite's instant (``SEND_TEST_NOW``, default below), never at
  the day the suite happens to run; ``@pytest.mark.clock("2026-07-01T23:30:00+00:00")`` starts a test at its
  own instant. The clock then ticks in real time, so retries and timeouts behave as in production.

Everything started here is stopped at the end, on free ports, so the suite can
run beside ``make run``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from shared.clock import CLOCK, Clock
from shared.localinfra.kafka import KafkaBroker, wait_for_kafka
from shared.localinfra.postgres import PostgresCluster, create_database_at
from shared.localinfra.smtp import SmtpServer
from shared.testing import containers

#: A Wednesday in term time, far from any day the suite runs; CI also runs the suite at other instants.
DEFAULT_TEST_NOW = "2026-11-25T10:00:00+00:00"


def suite_now() -> datetime:
    instant = datetime.fromisoformat(os.environ.get("SEND_TEST_NOW") or DEFAULT_TEST_NOW)
    if instant.tzinfo is None:
        raise pytest.UsageError("SEND_TEST_NOW must be an aware instant, e.g. 2026-12-24T10:00:00+00:00")
    return instant


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clock(instant): the project clock reads this aware ISO instant as the test starts")
    config.addinivalue_line("markers", "smtp_in_process: smtp_server is aiosmtpd in this process even under "
                                       "testcontainers (the test changes the server's handler)")
    CLOCK.set(suite_now())  # before collection: module-level "today" in a test module is the suite's day


def pytest_report_header(config: pytest.Config) -> list[str]:
    engine = containers.reachable_engine() if os.environ.get("SEND_TEST_CONTAINERS", "auto") != "0" else None
    servers = f"testcontainers on {engine}" if engine else "local processes (no container engine answers)"
    return [f"project clock: tests start at {suite_now().isoformat()} (SEND_TEST_NOW)",
            f"Kafka, PostgreSQL, SMTP: {servers} (SEND_TEST_CONTAINERS)"]


@pytest.fixture(scope="session")
def infra_in_containers() -> bool:
    """Whether Kafka, PostgreSQL and SMTP run through testcontainers this session (decided once)."""
    return containers.use_containers()


@pytest.fixture(autouse=True)
def project_clock(request: pytest.FixtureRequest) -> Iterator[Clock]:
    marker = request.node.get_closest_marker("clock")
    CLOCK.set(datetime.fromisoformat(marker.args[0]) if marker else suite_now())
    yield CLOCK
    CLOCK.set(suite_now())


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self, prefix: str = "test") -> str:
        return create_database_at(self.admin_url, f"{prefix}_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_in_containers: bool) -> Iterator[str]:
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        wait_for_kafka(existing)
        yield existing
        return
    broker = containers.KafkaContainer().start() if infra_in_containers else KafkaBroker().start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres(infra_in_containers: bool) -> Iterator[PostgresServer]:
    existing = os.environ.get("TEST_DATABASE_URL")
    if existing:
        yield PostgresServer(existing)
        return
    cluster = containers.PostgresContainer().start() if infra_in_containers else PostgresCluster().start()
    try:
        yield PostgresServer(cluster.url("postgres"))
    finally:
        cluster.stop()


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    return postgres.create_database()


@pytest.fixture
def make_database(postgres: PostgresServer) -> Callable[[str], str]:
    return postgres.create_database


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest, tmp_path: Path,
                infra_in_containers: bool) -> Iterator[SmtpServer | containers.SmtpContainer]:
    in_process = request.node.get_closest_marker("smtp_in_process") is not None
    server = containers.start_smtp(tmp_path / "mail", containers=infra_in_containers and not in_process)
    try:
        yield server
    finally:
        server.stop()
