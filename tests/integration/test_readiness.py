"""Readiness means "can serve": a Kafka outage is absorbed by the outbox, so the API stays in service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from support import NOVEMBER_2026, PORTAL, case_payload, serve

from intake.main import create_app
from intake.settings import IntakeSettings
from shared.localinfra.kafka import KafkaBroker
from shared.outbox import OutboxEvent

pytestmark = pytest.mark.clock(NOVEMBER_2026)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, so it can be stopped without touching the suite's."""
    broker = KafkaBroker(data_dir=tmp_path / "kafka").start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_intake_stays_ready_and_keeps_taking_cases_while_kafka_is_down(own_broker, database_url, namespace):
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=own_broker.bootstrap_servers,
                              kafka_namespace=namespace, environment="test")
    async with serve(create_app(settings)) as intake:
        own_broker.stop()
        ready = await intake.get("/readyz")
        submitted = await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)

        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["kafka"].startswith("unavailable")
        assert submitted.status_code == 201, submitted.text
        async with intake.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
            waiting = (await session.exec(select(OutboxEvent).where(OutboxEvent.subject == submitted.json()["id"]))).all()
        # the case and its copies for scheduling and certificates, kept in the outbox until the broker is back
        assert [row.published_at for row in waiting] == [None, None, None]
