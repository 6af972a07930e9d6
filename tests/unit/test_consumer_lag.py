"""The consumer_lag gauge reports only partitions this member still owns."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.kafka.consumer import _Assignment
from shared.metrics import CONSUMER_LAG


def _reported(service: str) -> set[tuple[str, str]]:
    return {(sample.labels["topic"], sample.labels["partition"])
            for metric in CONSUMER_LAG.collect() for sample in metric.samples
            if sample.labels.get("service") == service}


class _Commits:
    """Stands in for the consumer's commit of what it handled: records what it was asked and still owned."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[TopicPartition], set[TopicPartition]]] = []
        self.assignment: _Assignment | None = None

    async def __call__(self, revoked: list[TopicPartition]) -> None:
        assert self.assignment is not None
        self.calls.append((revoked, set(self.assignment.partitions)))


def _assignment(service: str) -> tuple[_Assignment, _Commits]:
    commits = _Commits()
    commits.assignment = _Assignment(service, commits)
    return commits.assignment, commits


async def test_a_revoked_partition_drops_out_of_the_consumer_lag_gauge():
    service = "lag-test-revoke"
    assignment, _ = _assignment(service)
    kept, moved = TopicPartition("intake.cases", 0), TopicPartition("intake.cases", 1)
    await assignment.on_partitions_assigned([kept, moved])
    CONSUMER_LAG.labels(service, kept.topic, "0").set(3)
    CONSUMER_LAG.labels(service, moved.topic, "1").set(7)

    await assignment.on_partitions_revoked([moved])

    assert _reported(service) == {("intake.cases", "0")}
    assert assignment.partitions == {kept}


async def test_revoking_a_partition_never_measured_is_harmless():
    assignment, _ = _assignment("lag-test-unmeasured")
    await assignment.on_partitions_assigned([TopicPartition("intake.cases", 2)])

    await assignment.on_partitions_revoked([TopicPartition("intake.cases", 2)])

    assert _reported("lag-test-unmeasured") == set()


async def test_what_was_handled_on_a_partition_is_committed_before_the_partition_is_given_up():
    assignment, commits = _assignment("lag-test-commit")
    kept, moved = TopicPartition("intake.cases", 0), TopicPartition("intake.cases", 1)
    await assignment.on_partitions_assigned([kept, moved])

    await assignment.on_partitions_revoked([moved])

    assert commits.calls == [([moved], {kept, moved})]  # still owned while its offsets are committed
