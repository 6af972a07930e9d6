"""Schemathesis against each service's OpenAPI, authenticated: no 5xx, and every response matches the documented
schema (status, content type, body). Bounded: a few examples per operation, stateful links where documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import OPS, PORTAL, common_env

from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"

#: Who each service's API is for: the portal's token for intake and certificates, operations' for the others.
TOKENS = {"intake": PORTAL, "scheduling": OPS, "certificates": PORTAL, "notifications": OPS}

#: Examples per operation (the coverage phase adds each field's boundaries): small enough for a few minutes on 2
#: busy cores. Stateful runs follow the OpenAPI links from a created case to every operation on it.
MAX_EXAMPLES = "5"


@pytest.mark.parametrize("service", list(TOKENS))
def test_service_never_answers_5xx_nor_breaks_its_documented_schema(service, postgres, kafka_bootstrap, namespace,
                                                                    tmp_path):
    spec = next(s for s in SERVICES if s.name == service)
    env = common_env(spec.env_prefix, database_url=postgres.create_database(f"fuzz{service[:5]}"),
                     kafka_bootstrap=kafka_bootstrap, namespace=namespace)
    process = ServiceProcess(spec, free_port(), env, tmp_path / f"{service}.log").start()
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", f"{process.url}/openapi.json",
             "--checks", CHECKS, "--header", f"Authorization:{TOKENS[service]['Authorization']}",
             "--max-examples", MAX_EXAMPLES, "--seed", "20261128", "--no-color", "--workers", "1",
             "--suppress-health-check", "all"],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )
    finally:
        process.stop()

    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
