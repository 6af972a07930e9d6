"""pytest plugin: real Kafka, PostgreSQL and SMTP for the suite (registered by ``send-shared``).

- ``kafka_bootstrap``: a broker for the whole session, or KAFKA_BOOTSTRAP_SERVERS;
- ``postgres``: a throw-away cluster for the session, or TEST_DATABASE_URL (an admin URL);
- ``database_url``: a fresh, empty database per test;
- ``smtp_server``: a fresh SMTP server per test writing .eml files to tmp_path.

Everything started here is stopped at the end, on free ports, so the suite can
run beside ``make run``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.localinfra.kafka import KafkaBroker, wait_for_kafka
from shared.localinfra.postgres import PostgresCluster, create_database_at
from shared.localinfra.smtp import SmtpServer


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self, prefix: str = "test") -> str:
        return create_database_at(self.admin_url, f"{prefix}_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        wait_for_kafka(existing)
        yield existing
        return
    broker = KafkaBroker().start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    existing = os.environ.get("TEST_DATABASE_URL")
    if existing:
        yield PostgresServer(existing)
        return
    cluster = PostgresCluster().start()
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
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(folder=tmp_path / "mail").start()
    try:
        yield server
    finally:
        server.stop()
