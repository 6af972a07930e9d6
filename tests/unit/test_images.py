"""One Dockerfile builds every service: the SERVICE/PORT pairs it accepts, `make images` and the compose file agree."""

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
    [pairs] = re.findall(r"^SERVICE_PORTS := (.+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)

    assert dict(pair.split(":") for pair in pairs.split()) == SERVICES


def test_the_compose_file_builds_each_service_from_the_one_dockerfile():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())

    builds = {name: spec["build"] for name, spec in compose["services"].items() if name in SERVICES}

    assert builds == {name: {"context": "..", "dockerfile": "Dockerfile", "args": {"SERVICE": name, "PORT": port}}
                      for name, port in SERVICES.items()}


def test_no_service_keeps_a_dockerfile_of_its_own():
    assert sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "services").glob("*/Dockerfile")) == []
