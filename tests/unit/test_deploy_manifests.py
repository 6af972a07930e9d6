"""deploy/k8s agrees with the code: kustomize builds every overlay, every object fits its schema, and the
topics, LA directory, settings, alert rules and scaling limits are the code's own (offline)."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from certificates.settings import CertificatesSettings
from intake.settings import IntakeSettings
from notifications.settings import NotificationsSettings
from scheduling.settings import SchedulingSettings
from shared.directory import load_directory

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SETTINGS = {"INTAKE_": IntakeSettings, "SCHEDULING_": SchedulingSettings, "CERTIFICATES_": CertificatesSettings,
            "NOTIFICATIONS_": NotificationsSettings}
#: Variables read by something other than a settings class: the LA directory (shared.directory), uvicorn, and
#: the topics Job's own arguments.
OTHER_VARIABLES = {"SEND_LA_DIRECTORY", "FORWARDED_ALLOW_IPS", "BOOTSTRAP", "TOPIC_PREFIX"}
CONSUMING_DEPLOYMENTS = {"intake", "scheduling", "certificates", "notifications-workers"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"deploy_k8s_{name}", K8S / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


#: On a machine without kubectl or kustomize, the first build compiles kustomize with Go (minutes, once).
pytestmark = pytest.mark.timeout(900)

lint = _load("lint")
generate = _load("generate")


@cache
def built(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(lint.build(K8S / "overlays" / overlay))


def of_kind(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in built(overlay) if doc["kind"] == kind]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["spec"]["template"]["spec"]["containers"])


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
    return True


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


overlays = pytest.mark.parametrize("overlay", lint.OVERLAYS)


def test_the_generated_copies_of_the_la_directory_and_the_alert_rules_are_up_to_date():
    assert [str(path.relative_to(ROOT)) for path in generate.stale()] == [], "run make deploy-generate"


@overlays
def test_kustomize_builds_the_overlay_and_every_object_fits_the_kubernetes_schema(overlay):
    documents = list(built(overlay))

    assert lint.schema_errors(documents) == []
    assert {(doc["apiVersion"], doc["kind"]) for doc in documents} - lint.CUSTOM_KINDS  # some were validated


def test_the_schema_check_fails_a_misspelt_field_and_an_unknown_kind():
    [deployment] = [doc for doc in built("staging") if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "intake"]
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    unknown = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}

    errors = lint.schema_errors([misspelt, unknown])

    assert len(errors) == 2 and "Deployment/intake" in errors[0] and "Widget/w" in errors[1]


def test_the_secrets_template_fits_the_kubernetes_schema():
    secrets = [doc for doc in yaml.safe_load_all((K8S / "base" / "secrets.template.yaml").read_text()) if doc]

    assert secrets and lint.schema_errors(secrets) == []


@overlays
def test_every_object_lands_in_one_namespace(overlay):
    [namespace] = of_kind(overlay, "Namespace")
    name = namespace["metadata"]["name"]

    assert {doc["metadata"].get("namespace") for doc in built(overlay) if doc["kind"] != "Namespace"} == {name}


@overlays
def test_the_la_directory_mounted_in_every_pod_is_the_codes_directory(overlay):
    [config_map] = [doc for doc in of_kind(overlay, "ConfigMap") if doc["metadata"]["name"].startswith("send-la-directory")]
    mounted = yaml.safe_load(config_map["data"]["local_authorities.yaml"])
    packaged = load_directory.__wrapped__(str(ROOT / "shared/src/shared/data/local_authorities.yaml"))

    assert set(mounted["local_authorities"]) == set(packaged.local_authorities)
    for doc in of_kind(overlay, "Deployment"):
        volumes = {v["name"]: v for v in doc["spec"]["template"]["spec"]["volumes"]}
        assert volumes["la-directory"]["configMap"]["name"] == config_map["metadata"]["name"]
        [container] = containers(doc)
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["SEND_LA_DIRECTORY"] == "/etc/send-mediation/la-directory/local_authorities.yaml"


def _setting_exists(name: str) -> bool:
    if name in OTHER_VARIABLES:
        return True
    for prefix, settings in SETTINGS.items():
        if name.startswith(prefix):
            return name.removeprefix(prefix).lower() in settings.model_fields
    return False


@overlays
def test_every_variable_the_manifests_set_is_a_setting_the_service_reads(overlay):
    names = {env["name"] for kind in ("Deployment", "Job") for doc in of_kind(overlay, kind)
             for container in containers(doc) for env in container.get("env", [])}
    secret_keys = {key for doc in yaml.safe_load_all((K8S / "base" / "secrets.template.yaml").read_text()) if doc
                   for key in doc.get("stringData", {}) if re.fullmatch(r"[A-Z0-9_]+", key)}

    assert sorted(name for name in names | secret_keys if not _setting_exists(name)) == []
    assert "NOTIFICATIONS_OPS_EMAIL" in names  # the ops address is set, not the example default


@overlays
def test_every_config_key_a_pod_reads_is_in_send_config(overlay):
    [send_config] = [doc for doc in of_kind(overlay, "ConfigMap") if doc["metadata"]["name"].startswith("send-config")]
    wanted = {(env["valueFrom"]["configMapKeyRef"]["name"], env["valueFrom"]["configMapKeyRef"]["key"])
              for kind in ("Deployment", "Job") for doc in of_kind(overlay, kind) for container in containers(doc)
              for env in container.get("env", []) if "configMapKeyRef" in env.get("valueFrom", {})}

    assert {name for name, _ in wanted} == {send_config["metadata"]["name"]}
    assert {key for _, key in wanted} <= set(send_config["data"])


@overlays
def test_every_deployment_has_a_disruption_budget_an_autoscaler_and_default_deny(overlay):
    budgets = of_kind(overlay, "PodDisruptionBudget")
    scalers = {doc["spec"]["scaleTargetRef"]["name"] for doc in of_kind(overlay, "HorizontalPodAutoscaler")}
    [deny] = [doc for doc in of_kind(overlay, "NetworkPolicy") if doc["metadata"]["name"] == "default-deny"]

    for deployment in of_kind(overlay, "Deployment"):
        name, labels = deployment["metadata"]["name"], pod_labels(deployment)
        assert [b for b in budgets if selects(b["spec"]["selector"], labels)], f"{name} has no PodDisruptionBudget"
        assert name in scalers, f"{name} has no HorizontalPodAutoscaler"
        assert "replicas" not in deployment["spec"], f"{name} fights its autoscaler over replicas"
        assert selects(deny["spec"]["podSelector"], labels) and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def _partitions(overlay: str) -> int:
    [job] = [doc for doc in of_kind(overlay, "Job") if doc["metadata"]["name"] == "kafka-topics"]
    [container] = containers(job)
    assert container["command"] == ["python", "-m", "shared.kafka.topics"]
    [partitions] = [int(arg.split("=")[1]) for arg in container["args"] if arg.startswith("--partitions=")]
    return partitions


@overlays
def test_no_consumer_scales_past_the_partitions_of_its_topics(overlay):
    partitions = _partitions(overlay)
    for scaler in of_kind(overlay, "HorizontalPodAutoscaler"):
        if scaler["spec"]["scaleTargetRef"]["name"] in CONSUMING_DEPLOYMENTS:
            assert scaler["spec"]["maxReplicas"] <= partitions


def test_production_scales_every_consumer_on_its_consumer_lag():
    lag = {scaler["spec"]["scaleTargetRef"]["name"]: metric["external"]["metric"]["selector"]["matchLabels"]["service"]
           for scaler in of_kind("production", "HorizontalPodAutoscaler") for metric in scaler["spec"]["metrics"]
           if metric["type"] == "External" and metric["external"]["metric"]["name"] == "send_consumer_lag"}

    assert lag == {"intake": "intake", "scheduling": "scheduling", "certificates": "certificates",
                   "notifications-workers": "notifications"}


def _egress_ports(overlay: str, labels: dict[str, str]) -> set[int]:
    return {port["port"] for policy in of_kind(overlay, "NetworkPolicy") if "Egress" in policy["spec"]["policyTypes"]
            and selects(policy["spec"]["podSelector"], labels)
            for rule in policy["spec"].get("egress", []) for port in rule.get("ports", [])}


@overlays
def test_each_pod_may_reach_only_what_it_talks_to(overlay):
    deployments = {doc["metadata"]["name"]: pod_labels(doc) for doc in of_kind(overlay, "Deployment")}
    common = {53, 9092, 5432}

    assert _egress_ports(overlay, deployments["intake"]) == common
    assert _egress_ports(overlay, deployments["certificates"]) == common
    assert _egress_ports(overlay, deployments["scheduling"]) == common | {443}  # provider webhooks
    assert _egress_ports(overlay, deployments["notifications"]) == common  # the API-only Deployment sends no email
    assert _egress_ports(overlay, deployments["notifications-workers"]) == common | {587, 465, 25}
    [send_config] = [doc for doc in of_kind(overlay, "ConfigMap") if doc["metadata"]["name"].startswith("send-config")]
    assert int(send_config["data"]["smtp-port"]) in {587, 465, 25}  # the relay configured is one it may reach


@overlays
def test_the_ingress_routes_the_portal_the_provider_and_public_verification_to_real_services(overlay):
    [ingress] = of_kind(overlay, "Ingress")
    services = {doc["metadata"]["name"]: {p["name"] for p in doc["spec"]["ports"]} for doc in of_kind(overlay, "Service")}
    routes = {(path["path"], path["backend"]["service"]["name"]) for rule in ingress["spec"]["rules"]
              for path in rule["http"]["paths"]}

    assert routes == {("/v1", "intake"), ("/v1/webhooks", "scheduling"), ("/v1/verify", "certificates")}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["port"]["name"] in services[backend["name"]]
    [send_config] = [doc for doc in of_kind(overlay, "ConfigMap") if doc["metadata"]["name"].startswith("send-config")]
    verify_host = next(r["host"] for r in ingress["spec"]["rules"] if r["http"]["paths"][0]["path"] == "/v1/verify")
    assert send_config["data"]["certificates-public-base-url"] == f"https://{verify_host}"


@overlays
def test_the_prometheus_rule_is_deploy_prometheus_alerts_and_the_pod_monitor_scrapes_every_pod(overlay):
    [rule] = of_kind(overlay, "PrometheusRule")
    [monitor] = of_kind(overlay, "PodMonitor")
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())

    assert rule["spec"]["groups"] == alerts["groups"]
    for deployment in of_kind(overlay, "Deployment"):
        assert selects(monitor["spec"]["selector"], pod_labels(deployment))
        ports = {p["name"] for c in containers(deployment) for p in c["ports"]}
        assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} <= ports
    assert 'job="send-mediation"' in yaml.safe_dump(alerts)
    assert {"action": "replace", "targetLabel": "job", "replacement": "send-mediation"} in \
        monitor["spec"]["podMetricsEndpoints"][0]["relabelings"]


def test_production_names_its_kafka_and_postgresql_operators_and_points_the_services_at_them():
    kinds = {(doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) for doc in built("production")}
    [send_config] = [doc for doc in of_kind("production", "ConfigMap") if doc["metadata"]["name"].startswith("send-config")]

    assert {("kafka.strimzi.io/v1beta2", "Kafka", "send-kafka"), ("postgresql.cnpg.io/v1", "Cluster", "send-postgres")} <= kinds
    assert send_config["data"]["kafka-bootstrap-servers"] == "send-kafka-kafka-bootstrap:9092"
    operator_managed = [doc for doc in built("production") if doc["apiVersion"].split("/")[0].endswith(("strimzi.io", "cnpg.io"))]
    assert all("app.kubernetes.io/part-of" not in doc["metadata"].get("labels", {}) for doc in operator_managed)


@overlays
def test_no_disruption_budget_blocks_a_node_drain_at_the_autoscalers_minimum(overlay):
    minimum = {doc["spec"]["scaleTargetRef"]["name"]: doc["spec"]["minReplicas"]
               for doc in of_kind(overlay, "HorizontalPodAutoscaler")}
    for deployment in of_kind(overlay, "Deployment"):
        [budget] = [b for b in of_kind(overlay, "PodDisruptionBudget")
                    if selects(b["spec"]["selector"], pod_labels(deployment))]
        allowed = budget["spec"].get("maxUnavailable") or minimum[deployment["metadata"]["name"]] - budget["spec"]["minAvailable"]
        assert allowed >= 1, f"{deployment['metadata']['name']}: its budget allows no eviction"


def test_the_readme_table_of_topics_and_their_consumers_is_the_codes():
    from certificates.consumers import SUBSCRIPTIONS as certificates
    from intake.consumers import SUBSCRIPTIONS as intake
    from notifications.consumers import SUBSCRIPTIONS as notifications
    from scheduling.consumers import SUBSCRIPTIONS as scheduling
    from shared.kafka.topics import all_topics

    consumers: dict[str, set[str]] = {spec.name: set() for spec in all_topics() if not spec.name.endswith(".dlt")}
    for name, subscriptions in [("intake", intake), ("scheduling", scheduling), ("certificates", certificates),
                                ("notifications-workers", notifications)]:
        for model in subscriptions:
            consumers[model.topic].add(name)
    readme = (ROOT / "deploy/README.md").read_text()
    table = readme.split("### Scaling out, and the limit per topic")[1].split("\n\n")[2]
    rows = {m.group(1): set(m.group(2).split(", ")) for m in re.finditer(r"^\| `([a-z.-]+)` \| ([a-z, -]+) \|", table, re.M)}

    assert rows == consumers


def test_production_topics_fit_the_strimzi_cluster_the_overlay_creates():
    [job] = [doc for doc in of_kind("production", "Job") if doc["metadata"]["name"] == "kafka-topics"]
    args = dict(arg.removeprefix("--").split("=", 1) for arg in containers(job)[0]["args"])
    [pool] = of_kind("production", "KafkaNodePool")
    [kafka] = of_kind("production", "Kafka")

    assert int(args["replication-factor"]) <= pool["spec"]["replicas"]
    assert int(args["min-insync-replicas"]) == kafka["spec"]["kafka"]["config"]["min.insync.replicas"]
    assert int(args["min-insync-replicas"]) < int(args["replication-factor"])  # one broker may be down
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False  # only the Job creates topics


def test_every_service_variable_the_compose_stack_sets_is_a_setting_the_service_reads():
    compose = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
    names = set()
    for service in ("intake", "scheduling", "certificates", "notifications"):
        environment = compose["services"][service].get("environment") or {}
        names |= set(environment) if isinstance(environment, dict) else {e.split("=")[0] for e in environment}

    assert names and sorted(name for name in names if not _setting_exists(name)) == []
