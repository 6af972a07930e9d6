"""Every Kafka topic the system uses, from the code's own registry, and ``python -m shared.kafka.topics``
to create them: the entry point deploy/'s topics Job runs, so deployment never keeps a second list.

- the event topics of ``shared.events.registry`` (a case's events are keyed by case id, so order per
  case holds on any partition count; partitions bound how many consumer pods of a service work at once);
- one dead-letter topic per consuming service, kept 30 days for inspection and re-drive.

Topics only grow: a topic that exists is left as it is (adding partitions to an existing topic moves
the partition of some keys, so it is done by hand, between deployments, as docs/operations.md says).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field

from shared.events.registry import TOPICS
from shared.kafka.admin import ensure_topics
from shared.kafka.consumer import dead_letter_topic

#: Every service that consumes events, so has a dead-letter topic.
CONSUMING_SERVICES: tuple[str, ...] = ("intake", "scheduling", "certificates", "notifications")
DEAD_LETTER_RETENTION_MS = str(30 * 24 * 3600 * 1000)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    configs: dict[str, str] = field(default_factory=dict)


def all_topics() -> list[TopicSpec]:
    events = [TopicSpec(topic) for topic in TOPICS]
    dead_letters = [TopicSpec(dead_letter_topic(service), {"retention.ms": DEAD_LETTER_RETENTION_MS})
                    for service in CONSUMING_SERVICES]
    return sorted(events + dead_letters, key=lambda spec: spec.name)


async def provision(bootstrap_servers: str, *, namespace: str, partitions: int, replication_factor: int,
                    min_insync_replicas: int) -> list[str]:
    created: list[str] = []
    for spec in all_topics():
        configs = {"min.insync.replicas": str(min_insync_replicas), **spec.configs}
        await ensure_topics(bootstrap_servers, {namespace + spec.name}, partitions=partitions,
                            replication_factor=replication_factor, configs=configs)
        created.append(namespace + spec.name)
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--namespace", default="", help="topic prefix (<PREFIX>KAFKA_NAMESPACE of the services)")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--replication-factor", type=int, default=3)
    parser.add_argument("--min-insync-replicas", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="print the topics and exit, touching no broker")
    args = parser.parse_args(argv)
    if args.list:
        for spec in all_topics():
            print(args.namespace + spec.name, *(f"{k}={v}" for k, v in spec.configs.items()))
        return 0
    for name in asyncio.run(provision(args.bootstrap_servers, namespace=args.namespace, partitions=args.partitions,
                                      replication_factor=args.replication_factor,
                                      min_insync_replicas=args.min_insync_replicas)):
        print(f"topic {name}: ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
