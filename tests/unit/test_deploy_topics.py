"""deploy/ provisions Kafka from the code's own registry of topics, never from a hand-kept list."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.events.registry import ALL_EVENTS
from shared.kafka.consumer import dead_letter_topic
from shared.kafka.topics import CONSUMING_SERVICES, all_topics, main

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_topic_and_every_dead_letter_topic_is_provisioned():
    names = {spec.name for spec in all_topics()}

    assert {model.topic for model in ALL_EVENTS} <= names
    assert {dead_letter_topic(service) for service in CONSUMING_SERVICES} <= names
    assert {"intake.health-referrals", "scheduling.operations"} <= names  # the two the old Job missed


def test_dead_letters_are_kept_thirty_days_for_inspection_and_re_drive():
    dead_letters = [spec for spec in all_topics() if spec.name.endswith(".dlt")]

    assert {spec.configs["retention.ms"] for spec in dead_letters} == {str(30 * 24 * 3600 * 1000)}


def test_the_kubernetes_topics_job_runs_the_projects_own_entry_point():
    [job] = [d for d in yaml.safe_load_all((ROOT / "deploy/k8s/base/kafka-topics-job.yaml").read_text()) if d]
    [container] = job["spec"]["template"]["spec"]["containers"]

    assert container["command"] == ["python", "-m", "shared.kafka.topics"]
    assert "send-mediation/" in container["image"]
    assert not any("intake.cases" in arg for arg in container.get("args", []))  # no second list of topics


def test_the_entry_point_lists_the_topics_with_the_namespace(capsys):
    assert main(["--list", "--namespace", "staging."]) == 0

    printed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert printed == ["staging." + spec.name for spec in all_topics()]
