"""The consumer_lag gauge reports only partitions this member still owns."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.kafka.consumer import _Assignment
from shared.metrics import CONSUMER_LAG


def _reported(service: str) -> set[tuple[str, str]]:
    return {(sample.labels["topic"], sample.labels["partition"])
            for metric in CONSUMER_LAG.collect() for sample in metric.samples
            if sample.labels.get("service") == service}


async def test_a_revoked_partition_drops_out_of_the_consumer_lag_gauge():
    service = "lag-test-revoke"
    assignment = _Assignment(service)
    kept, moved = TopicPartition("intake.cases", 0), TopicPartition("intake.cases", 1)
    await assignment.on_partitions_assigned([kept, moved])
    CONSUMER_LAG.labels(service, kept.topic, "0").set(3)
    CONSUMER_LAG.labels(service, moved.topic, "1").set(7)

    await assignment.on_partitions_revoked([moved])

    assert _reported(service) == {("intake.cases", "0")}
    assert assignment.partitions == {kept}


async def test_revoking_a_partition_never_measured_is_harmless():
    assignment = _Assignment("lag-test-unmeasured")
    await assignment.on_partitions_assigned([TopicPartition("intake.cases", 2)])

    await assignment.on_partitions_revoked([TopicPartition("intake.cases", 2)])

    assert _reported("lag-test-unmeasured") == set()
