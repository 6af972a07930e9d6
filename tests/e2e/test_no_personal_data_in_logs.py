"""No personal data in any log line: canary values (a child's and a parent's name, an email, a date of birth, an
issue) go in through intake's API on PostgreSQL, then database errors (a unique violation, whose DETAIL quotes the
value; a refusal whose message quotes the row), refused input (a NUL byte, CRLF, malformed JSON) and handler errors
are provoked, and every line the process wrote (structlog, uvicorn, stdlib) is searched for them."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import text
from support import PORTAL, case_payload, common_env

from shared.db import create_engine
from shared.localinfra.ports import free_port
from shared.localinfra.services import SERVICES, ServiceProcess

pytestmark = pytest.mark.e2e

TAG = uuid.uuid4().hex[:8]
CHILD = f"Canarychild Q{TAG}"
PARENT = f"Canaryparent Z{TAG}"
EMAIL = f"canary.{TAG}@example.org"
BIRTH = "2013-02-17"
ISSUE = f"Canary issue about section F {TAG}"
CANARIES = (CHILD, PARENT, EMAIL, BIRTH, ISSUE)


def canary_case(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {"requester": {"role": "parent", "name": PARENT, "email": EMAIL},
                                 "child": {"name": CHILD, "date_of_birth": BIRTH}, "mediation_issues": [ISSUE]}
    return case_payload(**{**fields, **overrides})


BREAK_THE_DATABASE = [
    # A second case for the same child is now a unique violation: PostgreSQL's DETAIL quotes the value.
    "CREATE UNIQUE INDEX canary_one_case_per_child ON cases (child_name)",
    # A case whose issues mention 'refuse-me' is refused by a trigger whose message quotes the row.
    """CREATE FUNCTION canary_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         RAISE EXCEPTION 'refusing % % % %', NEW.child_name, NEW.requester_name, NEW.requester_email,
           NEW.child_date_of_birth USING ERRCODE = '22021', DETAIL = NEW.mediation_issues::text;
       END $$""",
    """CREATE TRIGGER canary_refuse BEFORE INSERT ON cases FOR EACH ROW
         WHEN (NEW.mediation_issues::text LIKE '%refuse-me%') EXECUTE FUNCTION canary_refuse()""",
]


async def test_no_canary_value_reaches_any_log_line_whatever_fails(postgres, kafka_bootstrap, namespace, tmp_path):
    spec = next(s for s in SERVICES if s.name == "intake")
    database_url = postgres.create_database("canary")
    log_path = tmp_path / "intake.log"
    process = ServiceProcess(spec, free_port(), common_env(spec.env_prefix, database_url=database_url,
                                                           kafka_bootstrap=kafka_bootstrap, namespace=namespace),
                             log_path).start()
    statuses: dict[str, int] = {}
    try:
        # No keep-alive: uvicorn closes the connection after a 500, and the next request must not find it closed.
        async with httpx.AsyncClient(base_url=process.url, headers=PORTAL, timeout=30,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as client:
            seeded = await client.post("/v1/cases", json=canary_case(), headers={"Idempotency-Key": f"a-{TAG}"})
            assert seeded.status_code == 201, seeded.text
            stored = await client.get(f"/v1/cases/{seeded.json()['id']}")
            assert ISSUE in stored.text  # the canaries are in the service: a leak would be there to find

            engine = create_engine(database_url)
            async with engine.begin() as connection:
                for statement in BREAK_THE_DATABASE:
                    await connection.execute(text(statement))
            await engine.dispose()

            attempts = {
                "unique violation": canary_case(),
                "trigger refusal": case_payload(
                    requester={"role": "parent", "name": PARENT, "email": EMAIL},
                    child={"name": CHILD + " Second", "date_of_birth": BIRTH}, mediation_issues=[ISSUE, "refuse-me"]),
                "NUL in a name": canary_case(child={"name": CHILD + "\x00", "date_of_birth": BIRTH}),
                "CRLF in a name": canary_case(requester={"role": "parent", "name": PARENT + "\r\nBcc: x@example.org",
                                                         "email": EMAIL}),
                "a future birth date": canary_case(child={"name": CHILD, "date_of_birth": "2099-02-17"}),
                "'yes' as a boolean": canary_case(health_issues="yes"),
            }
            for what, body in attempts.items():
                response = await client.post("/v1/cases", json=body, headers={"Idempotency-Key": f"{what}-{TAG}"})
                statuses[what] = response.status_code
            malformed = json.dumps(canary_case())[:-2].encode()
            statuses["malformed JSON"] = (await client.post(
                "/v1/cases", content=malformed, headers={"content-type": "application/json"})).status_code
            statuses["same key, other body"] = (await client.post(
                "/v1/cases", json=canary_case(health_issues=True), headers={"Idempotency-Key": f"a-{TAG}"})).status_code
    finally:
        process.stop()

    assert all(400 <= status < 600 for status in statuses.values()), statuses
    lines = log_path.read_text(errors="replace").splitlines()
    assert any('"level": "error"' in line for line in lines), "the database errors were logged"
    leaks = [(canary, line) for line in lines for canary in CANARIES if canary in line]
    assert leaks == [], leaks[:3]
