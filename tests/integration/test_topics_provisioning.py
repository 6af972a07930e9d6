"""The topics entry point deploy/ runs creates every topic of the registry on a real broker."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.topics import all_topics, provision


async def test_provisioning_creates_every_topic_once_and_again_changes_nothing(kafka_bootstrap, namespace):
    first = await provision(kafka_bootstrap, namespace=namespace, partitions=2, replication_factor=1,
                            min_insync_replicas=1)
    again = await provision(kafka_bootstrap, namespace=namespace, partitions=2, replication_factor=1,
                            min_insync_replicas=1)

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([namespace + spec.name for spec in all_topics()])
    finally:
        await admin.close()
    assert first == again == [namespace + spec.name for spec in all_topics()]
    assert {entry["topic"]: len(entry["partitions"]) for entry in described} == {name: 2 for name in first}
