"""Topic provisioning for development and tests (production provisions topics in deploy/)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(bootstrap_servers: str, topics: Iterable[str], *, partitions: int,
                        timeout: float = 60.0, configs: dict[str, str] | None = None,
                        replication_factor: int = 1) -> None:
    """Create missing topics, then wait until every partition of each has a leader.

    Several services create the same topics as they start; one that loses the race
    must still wait for the topic to be ready, or its consumer may join the group
    before the topic has partitions and be assigned nothing until the next
    metadata refresh.
    """
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for topic in wanted:  # one at a time: a batch fails whole if another service won the race
            if topic not in existing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(name=topic, num_partitions=partitions,
                                                        replication_factor=replication_factor,
                                                        topic_configs=configs or {})])
        deadline = time.monotonic() + timeout
        while not _ready(await admin.describe_topics(wanted), wanted):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not ready within {timeout}s: {wanted}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def _ready(described: list[Any], wanted: list[str]) -> bool:
    by_name = {entry["topic"]: entry for entry in described}
    for topic in wanted:
        entry = by_name.get(topic)
        if entry is None or entry.get("error_code", 0) != 0 or not entry.get("partitions"):
            return False
        if any(partition.get("leader", -1) < 0 for partition in entry["partitions"]):
            return False
    return True
