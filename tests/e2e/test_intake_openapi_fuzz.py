"""Schemathesis against intake's OpenAPI: no 5xx, and every response matches the documented schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import PORTAL, common_env

from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_intake_never_answers_5xx_nor_breaks_its_documented_schema(postgres, kafka_bootstrap, namespace, tmp_path):
    spec = next(s for s in SERVICES if s.name == "intake")
    env = common_env(spec.env_prefix, database_url=postgres.create_database("fuzz"),
                     kafka_bootstrap=kafka_bootstrap, namespace=namespace)
    process = ServiceProcess(spec, free_port(), env, tmp_path / "intake.log").start()
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", f"{process.url}/openapi.json",
             "--checks", CHECKS, "--header", f"Authorization:{PORTAL['Authorization']}",
             "--max-examples", "30", "--seed", "20261128", "--no-color"],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )
    finally:
        process.stop()

    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
