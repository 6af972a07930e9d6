"""Builds every kustomize overlay of deploy/k8s and validates each object against the Kubernetes schemas, offline.

    python deploy/k8s/lint.py     # make deploy-lint; tests/unit/test_deploy_manifests.py runs the same checks

kustomize: ``kubectl kustomize`` when kubectl is installed, else a ``kustomize`` on PATH, else
kustomize v5 built once with the machine's Go from the Go module proxy and cached in
``~/.cache/send-mediation/`` (``go install sigs.k8s.io/kustomize/kustomize/v5@KUSTOMIZE_VERSION``).
Schemas: the ``kubernetes-validate`` package bundles the Kubernetes JSON schemas (strict: unknown
fields fail). Custom resources (Prometheus Operator, Strimzi, CloudNativePG) have no bundled
schema: they are listed in ``CUSTOM_KINDS`` and checked by the unit test instead; any other kind
without a schema fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml
from kubernetes_validate.utils import schema_contents  # type: ignore[import-untyped]
from referencing import Registry, Resource

K8S = Path(__file__).resolve().parent
OVERLAYS = ("staging", "production")
KUSTOMIZE_VERSION = "v5.5.0"
KUBERNETES_VERSION = "1.32.0"
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("kafka.strimzi.io/v1beta2", "Kafka"), ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
    ("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "Database"),
}
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "send-mediation" / f"kustomize-{KUSTOMIZE_VERSION}"


def kustomize_command() -> list[str]:
    """How to run ``kustomize build`` on this machine (building kustomize with Go if nothing else is there)."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    cached = CACHE / "kustomize"
    if not cached.exists():
        go = shutil.which("go")
        if go is None:
            raise RuntimeError("no kubectl, kustomize or go on PATH: install one to build deploy/k8s")
        subprocess.run([go, "install", f"sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}"], check=True,
                       env={**os.environ, "GOBIN": str(CACHE), "GOFLAGS": "-mod=mod"})
    return [str(cached), "build"]


def build(directory: Path) -> list[dict[str, Any]]:
    out = subprocess.run([*kustomize_command(), str(directory)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@cache
def _validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """kubernetes-validate's strict schema of a kind (as its validate() finds it), loaded once: its
    validate() re-reads the 5 MB definitions file on every call."""
    schema_dir = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"{schema_dir}/{kind.lower()}-{group_version}.json", KUBERNETES_VERSION)
    except FileNotFoundError:
        return None
    definitions = _definitions(schema_dir)
    registry: Registry[Any] = Resource.from_contents(schema) @ (definitions @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@cache
def _definitions(schema_dir: str) -> Resource[Any]:
    return Resource.from_contents(schema_contents(f"{schema_dir}/_definitions.json", KUBERNETES_VERSION))


def schema_errors(documents: list[dict[str, Any]]) -> list[str]:
    """Every object that fails its Kubernetes schema, or has none and is not a known custom resource."""
    errors = []
    for doc in documents:
        api_version, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
        if (api_version, kind) in CUSTOM_KINDS:
            continue
        name = f"{kind}/{doc.get('metadata', {}).get('name')}"
        validator = _validator(api_version, kind)
        if validator is None:
            errors.append(f"{name}: no Kubernetes schema for {api_version} {kind}")
            continue
        for error in validator.iter_errors(doc):
            errors.append(f"{name}: {'.'.join(str(p) for p in error.absolute_path)}: {error.message}")
    return errors


def main() -> int:
    failed = False
    for overlay in OVERLAYS:
        documents = build(K8S / "overlays" / overlay)
        errors = schema_errors(documents)
        for error in errors:
            print(f"{overlay}: {error}", file=sys.stderr)
        failed = failed or bool(errors)
        print(f"{overlay}: {len(documents)} objects, {'INVALID' if errors else 'valid'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
