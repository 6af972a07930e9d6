"""Input limits at the edge (docs/api.md, "Limits"): every refusal is a 4xx problem naming the field, and nothing
is stored. Against PostgreSQL, where a NUL byte or an out-of-range date used to reach the database as a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from support import NOVEMBER_2026, PORTAL, case_payload, serve

from intake.case.models import Case
from intake.main import create_app
from intake.settings import IntakeSettings
from shared.limits import ISSUE_MAX, ISSUES_MAX, MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth

pytestmark = pytest.mark.clock(NOVEMBER_2026)


@pytest.fixture(scope="module")
async def intake(postgres: Any, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """One service for the module: every test here is refused at the edge, or adds one case at most."""
    app = create_app(IntakeSettings(database_url=postgres.create_database("limits"),
                                    kafka_bootstrap_servers=kafka_bootstrap,
                                    kafka_namespace=f"t{uuid.uuid4().hex[:10]}.", environment="test"))
    async with serve(app) as client:
        yield client


async def cases(client: httpx.AsyncClient) -> int:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return int((await session.exec(select(func.count()).select_from(Case))).one())


@pytest.fixture
async def stored_before(intake: httpx.AsyncClient) -> int:
    return await cases(intake)


def with_requester(**fields: Any) -> dict[str, Any]:
    return case_payload(requester={"role": "parent", "name": "Alex Example", "email": "alex@example.org", **fields})


def with_child(**fields: Any) -> dict[str, Any]:
    return case_payload(child={"name": "Sam Example", "date_of_birth": "2015-06-01", **fields})


@pytest.mark.parametrize(("payload", "field"), [
    pytest.param(with_requester(name="Alex\r\nBcc: everyone@example.org"), "body.requester.name",
                 id="CRLF in a name (an email header)"),
    pytest.param(with_requester(name="Alex\x00Example"), "body.requester.name", id="NUL in a name"),
    pytest.param(with_child(name="   "), "body.child.name", id="a blank name"),
    pytest.param(with_requester(name="A" * 201), "body.requester.name", id="a name over 200"),
    pytest.param(with_requester(email="a" * 250 + "@example.org"), "body.requester.email",
                 id="an email over 254"),
    pytest.param(with_requester(email="alex@example.org\r\nBcc: x@example.org"), "body.requester.email",
                 id="CRLF in an email"),
    pytest.param(case_payload(mediation_issues=["x" * (ISSUE_MAX + 1)]), "body.mediation_issues.0",
                 id="an issue over 500"),
    pytest.param(case_payload(mediation_issues=["Section F"] * (ISSUES_MAX + 1)), "body.mediation_issues",
                 id="more than 50 issues"),
    pytest.param(case_payload(mediation_issues=["Section F\x00"]), "body.mediation_issues.0",
                 id="NUL in an issue"),
    pytest.param(case_payload(health_issues="yes"), "body.health_issues", id="'yes' as a boolean"),
    pytest.param(case_payload(health_issues=1), "body.health_issues", id="1 as a boolean"),
    pytest.param(case_payload(notice_sent_on=0), "body.notice_sent_on", id="0 as a date"),
    pytest.param(case_payload(notice_sent_on="9999-12-31"), "body.notice_sent_on", id="year 9999"),
    pytest.param(case_payload(decision_date="1970-01-01"), "body.decision_date",
                 id="a decision before the SEND framework"),
    pytest.param(with_child(date_of_birth="2027-01-01"), "body.child.date_of_birth",
                 id="a birth date in the future"),
    pytest.param(with_child(date_of_birth="1900-01-01"), "body.child.date_of_birth",
                 id="a birth date 126 years ago"),
    pytest.param(case_payload(health_issues=True, health_provision_wanted="x" * 2001),
                 "body.health_provision_wanted", id="free text over 2000"),
])
async def test_a_request_beyond_a_limit_is_refused_naming_the_field_and_nothing_is_stored(intake, stored_before, payload,
                                                                                       field):
    response = await intake.post("/v1/cases", json=payload, headers=PORTAL)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert await cases(intake) == stored_before


async def test_the_limits_still_take_a_request_at_every_maximum(intake):
    payload = case_payload(mediation_issues=["x" * ISSUE_MAX] * ISSUES_MAX,
                           requester={"role": "parent", "name": "A" * 200, "email": "alex@example.org"})

    response = await intake.post("/v1/cases", json=payload, headers=PORTAL)

    assert response.status_code == 201, response.text


async def test_a_body_over_the_size_limit_is_refused_with_413_before_it_is_read_whole(intake, stored_before):
    body = json.dumps(case_payload(padding="x" * MAX_BODY_BYTES)).encode()

    declared = await intake.post("/v1/cases", content=body, headers={**PORTAL, "content-type": "application/json"})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams in
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    streamed = await intake.post("/v1/cases", content=chunks(), headers={**PORTAL, "content-type": "application/json"})

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [{"field": "body", "reason": f"must be at most {MAX_BODY_BYTES} bytes"}]
    assert await cases(intake) == stored_before


async def test_json_nested_deeper_than_the_limit_is_refused_naming_the_body(intake):
    deep = "[" * 100_000 + "]" * 100_000  # json.loads would raise RecursionError: a 500

    response = await intake.post("/v1/cases", content=deep, headers={**PORTAL, "content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_brackets_inside_strings_do_not_count_towards_the_depth():
    assert json_depth(b'{"a": "[[[[{{{{\\"[[["}') == 1
    assert json_depth(b'["a\\\\", ["]"]]') == 2  # an escaped backslash ends before the quote
    assert json_depth(json.dumps([[[{"a": [1]}]]]).encode()) == 5
    assert json_depth(b"[" * (MAX_JSON_DEPTH + 5)) == MAX_JSON_DEPTH + 1  # stops counting past the limit


@pytest.mark.parametrize("url", ["/v1/cases/abc%00def", "/v1/cases?cursor=%00"])
async def test_a_nul_in_the_path_or_query_is_refused_before_it_reaches_postgresql(intake, url):
    response = await intake.get(url, headers=PORTAL)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in ("path", "query")


@pytest.mark.parametrize("notice_sent_on", ["9999-12-31", "9999-10-31", "0001-01-01", 0])
async def test_an_exemption_check_with_an_absurd_notice_date_is_refused_not_a_500(intake, notice_sent_on):
    response = await intake.post("/v1/exemption-checks", json={"appeal_about": ["named_school"],
                                                                "notice_sent_on": notice_sent_on}, headers=PORTAL)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.notice_sent_on"


async def test_every_operation_with_a_body_documents_413_and_its_422_as_problem_json(intake):
    document = (await intake.get("/openapi.json")).json()

    operations = [op for path in document["paths"].values() for op in path.values() if "requestBody" in op]
    assert operations
    for operation in operations:
        assert {"400", "413", "422"} <= set(operation["responses"]), operation["operationId"]
        assert list(operation["responses"]["422"]["content"]) == ["application/problem+json"]
