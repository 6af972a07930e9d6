"""One Dockerfile builds every service: the SERVICE/PORT pairs it accepts, `make images` (deploy/images/build.sh)
and the compose file agree; the local images need no registry."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"intake": "8001", "scheduling": "8002", "certificates": "8003", "notifications": "8004"}


def test_the_dockerfile_accepts_exactly_each_service_with_its_port():
    [pairs] = re.findall(r'case "\$\{SERVICE\}:\$\{PORT\}" in \\\s*\n\s*([a-z0-9:|]+)\)', (ROOT / "Dockerfile").read_text())

    assert dict(pair.split(":") for pair in pairs.split("|")) == SERVICES


def test_make_images_builds_each_service_with_its_port():
    [pairs] = re.findall(r"^\s*for pair in ([a-z0-9: ]+); do$", (ROOT / "deploy/images/build.sh").read_text(),
                         flags=re.MULTILINE)

    assert dict(pair.split(":") for pair in pairs.split()) == SERVICES


def make_targets() -> dict[str, str]:
    """Each Makefile target with its recipe."""
    text = (ROOT / "Makefile").read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"^([a-z-]+):[^=\n]*\n((?:\t.*\n)*)", text, flags=re.MULTILINE)}


def test_make_images_deploy_check_and_test_containers_exist_and_use_deploy_images():
    targets = make_targets()

    assert "deploy/images/build.sh all" in targets["images"]
    assert "deploy/images/deploy_check.py" in targets["deploy-check"]
    assert "deploy/images/test-containers.sh" in targets["test-containers"]
    assert "tests/integration" in targets["test-containers"]


def test_the_dockerfile_base_is_a_build_argument_defaulting_to_upstream_python_3_11():
    text = (ROOT / "Dockerfile").read_text()

    assert re.findall(r"^ARG PYTHON_IMAGE=(.+)$", text, flags=re.MULTILINE) == ["python:3.11-slim"]
    assert re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_the_local_images_build_from_the_locally_built_base():
    bases = {path.name: re.findall(r"^ARG (?:BASE|PYTHON)_IMAGE=(.+)$", path.read_text(), flags=re.MULTILINE)
             for path in sorted((ROOT / "deploy/images").glob("Containerfile.*"))}

    assert bases == {"Containerfile.kafka": ["localhost/send-mediation/base:bookworm"],
                     "Containerfile.postgres": ["localhost/send-mediation/base:bookworm"],
                     "Containerfile.python": ["localhost/send-mediation/base:bookworm"],
                     "Containerfile.smtp": ["localhost/send-mediation/python:3.11"]}


def test_the_compose_file_builds_each_service_from_the_one_dockerfile():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())

    builds = {name: spec["build"] for name, spec in compose["services"].items() if name in SERVICES}

    assert builds == {name: {"context": "..", "dockerfile": "Dockerfile", "args": {"SERVICE": name, "PORT": port}}
                      for name, port in SERVICES.items()}


def test_no_service_keeps_a_dockerfile_of_its_own():
    assert sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "services").glob("*/Dockerfile")) == []
