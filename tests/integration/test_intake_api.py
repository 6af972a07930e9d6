"""Intake's portal API through HTTP, against PostgreSQL and Kafka."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import func, select
from support import PORTAL, case_payload, serve

from intake.case.models import Case
from intake.main import create_app
from intake.settings import IntakeSettings
from shared.auth import DEVELOPMENT_CLIENTS, ApiClient
from shared.outbox import OutboxEvent

OTHER_LA = {"Authorization": "Bearer dev-only-other-portal"}


@pytest.fixture
async def intake(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    clients = {**DEVELOPMENT_CLIENTS, "dev-only-other-portal": ApiClient(
        name="Another LA", la_code="E06000034", scopes=frozenset({"cases:read", "cases:write"}))}
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test", api_clients=clients)
    app = create_app(settings)
    async with serve(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def count(client: httpx.AsyncClient, model: type) -> int:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def outbox_types(client: httpx.AsyncClient) -> list[str]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return [row.type for row in (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()]


async def test_a_mediation_request_is_stored_and_announces_case_submitted(intake):
    response = await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)

    assert response.status_code == 201
    case = response.json()
    assert case["status"] == "submitted"
    assert case["mediate_by"] == "2026-12-20"  # R8: told 20 Nov + 30 days
    assert case["contact_window_ends_on"] == "2027-01-03"  # R4: notice 3 Nov + 2 months
    assert [entry["kind"] for entry in case["timeline"]] == ["submitted"]
    assert await outbox_types(intake) == ["case.submitted.v1"]


async def test_a_decline_is_stored_and_announces_case_mediation_declined_with_its_certificate_due_date(intake):
    response = await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)

    assert response.status_code == 201
    assert response.json()["certificate_due_on"] == "2026-11-25"  # R6: Fri 20 Nov + 3 working days
    assert await outbox_types(intake) == ["case.mediation_declined.v1"]


async def test_a_retry_with_the_same_idempotency_key_returns_the_original_case(intake):
    headers = {**PORTAL, "Idempotency-Key": "portal-request-42"}

    first = await intake.post("/v1/cases", json=case_payload(), headers=headers)
    second = await intake.post("/v1/cases", json=case_payload(), headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert await count(intake, Case) == 1
    assert await outbox_types(intake) == ["case.submitted.v1"]


async def test_an_idempotency_key_reused_with_another_body_is_refused(intake):
    headers = {**PORTAL, "Idempotency-Key": "portal-request-43"}
    await intake.post("/v1/cases", json=case_payload(), headers=headers)

    response = await intake.post("/v1/cases", json=case_payload(told_on="2026-11-21"), headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert await count(intake, Case) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"notice_sent_on": "2999-01-01"}, "body.notice_sent_on"),  # R23: notice in the future
        ({"notice_sent_on": "2026-11-01"}, "body.notice_sent_on"),  # R23: notice before the decision
        ({"told_on": "2026-11-01"}, "body.told_on"),
        ({"kind": "arbitration"}, "body.kind"),
        ({"decision": "refusal_to_paint_the_school"}, "body.decision"),
        ({"notice_sent_on": "3rd of November"}, "body.notice_sent_on"),
        ({"requester": {"role": "parent", "name": "Alex", "email": "not-an-email"}}, "body.requester.email"),
        ({"mediation_issues": []}, "body"),  # R7: a mediation names its issues
        ({"child": None}, "body.child"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored_or_emitted(intake, overrides, field):
    response = await intake.post("/v1/cases", json=case_payload(**overrides), headers=PORTAL)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await count(intake, Case) == 0
    assert await outbox_types(intake) == []


async def test_malformed_json_is_refused_with_400(intake):
    response = await intake.post("/v1/cases", content=b'{"kind": "mediation",',
                                 headers={**PORTAL, "content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


async def test_a_request_without_credentials_is_refused(intake):
    response = await intake.post("/v1/cases", json=case_payload())

    assert response.status_code == 401
    assert await count(intake, Case) == 0


async def test_another_local_authoritys_case_is_invisible(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()

    response = await intake.get(f"/v1/cases/{created['id']}", headers=OTHER_LA)
    listing = await intake.get("/v1/cases", headers=OTHER_LA)

    assert response.status_code == 404
    assert listing.json()["items"] == []


async def test_personal_data_stays_out_of_the_logs(intake, caplog):
    caplog.set_level(logging.DEBUG)

    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()
    await intake.post("/v1/cases", json=case_payload(notice_sent_on="2999-01-01"), headers=PORTAL)

    logs = caplog.text
    assert created["id"] in logs  # the case is logged, by id
    for personal in ("Alex Example", "alex@example.org", "Sam Example", "2015-06-01"):
        assert personal not in logs


async def test_the_openapi_document_lists_every_error_response_of_submit(intake):
    spec = (await intake.get("/openapi.json")).json()

    responses = spec["paths"]["/v1/cases"]["post"]["responses"]

    assert {"201", "200", "400", "401", "403", "409", "422"} <= set(responses)
    assert json.dumps(spec).count("E06000033") >= 1  # examples are present
