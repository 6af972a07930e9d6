"""Intake's portal API through HTTP, against PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlmodel import func, select
from support import NOVEMBER_2026, OPS, PORTAL, case_payload, handle, serve

from intake.case import service as case_service
from intake.case.models import Case
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.timeline import handlers as timeline_handlers
from shared.auth import DEVELOPMENT_CLIENTS, ApiClient
from shared.events import CertificateNotRequiredV1, CertificateReviewRequestedV1
from shared.events.meetings import TimelineMeetingConcludedV1, TimelineMeetingScheduledV1
from shared.outbox import OutboxEvent

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

OTHER_LA = {"Authorization": "Bearer dev-only-other-portal"}


@pytest.fixture
async def intake(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    clients = {**DEVELOPMENT_CLIENTS, "dev-only-other-portal": ApiClient(
        name="Another LA", la_code="E06000034", scopes=frozenset({"cases:read", "cases:write"}))}
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test", api_clients=clients)
    app = create_app(settings)
    async with serve(app) as client:
        yield client


async def count(client: httpx.AsyncClient, model: type) -> int:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def outbox_types(client: httpx.AsyncClient, topic: str = "intake.cases") -> list[str]:
    """The types recorded for one topic: by default the case's own events, the audiences' copies aside."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return [row.type for row in (await session.exec(
            select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id))).all()]


async def test_a_mediation_request_is_stored_and_announces_case_submitted(intake):
    response = await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)

    assert response.status_code == 201
    case = response.json()
    assert case["status"] == "submitted"
    assert case["mediate_by"] == "2026-12-20"  # R8: told 20 Nov + 30 days
    assert case["contact_window_ends_on"] == "2027-01-03"  # R4: notice 3 Nov + 2 months
    assert [entry["kind"] for entry in case["timeline"]] == ["submitted"]
    assert await outbox_types(intake) == ["case.submitted.v1"]


async def test_the_meeting_needs_travel_to_scheduling_in_its_referral_without_the_requesters_contact_details(intake):
    needs = {"languages": ["pl", "bfi"], "accessibility_needs": ["step_free_access"], "school_urn": "114820"}

    response = await intake.post("/v1/cases", json=case_payload(meeting_needs=needs), headers=PORTAL)

    assert response.status_code == 201
    assert response.json()["meeting_needs"] == needs
    async with intake.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = {row.topic: row for row in (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()}
    assert {topic: row.type for topic, row in rows.items()} == {
        "intake.cases": "case.submitted.v1", "intake.referrals": "referral.submitted.v1",
        "intake.certificate-facts": "certificate_facts.submitted.v1"}
    assert {row.subject for row in rows.values()} == {response.json()["id"]}  # keyed by case: in order per topic
    referral = json.loads(rows["intake.referrals"].envelope)["data"]
    assert (referral["languages"], referral["accessibility_needs"], referral["school_urn"]) == (
        ["pl", "bfi"], ["step_free_access"], "114820")
    requester = case_payload()["requester"]
    for field in ("name", "email"):  # scheduling gets neither; certificates the name it prints
        assert requester[field] not in rows["intake.referrals"].envelope
    facts = json.loads(rows["intake.certificate-facts"].envelope)["data"]
    assert facts["requester"] == {"role": requester["role"], "name": requester["name"]}
    assert requester["email"] not in rows["intake.certificate-facts"].envelope


async def test_r8_a_request_with_health_issues_sends_the_issues_and_provision_wanted_only_to_the_health_referral(
        intake):
    response = await intake.post("/v1/cases", json=case_payload(
        health_issues=True, mediation_issues=["Section G: speech and language therapy"],
        health_provision_wanted="Weekly therapy in school"), headers=PORTAL)

    assert response.status_code == 201
    async with intake.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = {row.type: row for row in (await session.exec(select(OutboxEvent))).all()}
    assert set(rows) == {"case.submitted.v1", "case.health_referral.v1", "referral.submitted.v1",
                         "certificate_facts.submitted.v1"}
    referral = rows["case.health_referral.v1"]
    assert referral.topic == "intake.health-referrals"  # read by notifications alone
    data = json.loads(referral.envelope)["data"]
    assert (data["mediation_issues"], data["health_provision_wanted"], data["tell_by"]) == (
        ["Section G: speech and language therapy"], "Weekly therapy in school", response.json()["health_bodies_told_by"])
    assert not any("speech and language" in row.envelope for row in rows.values() if row is not referral)


async def test_r6_a_decline_is_stored_and_announces_case_mediation_declined_with_its_certificate_due_date(intake):
    response = await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)

    assert response.status_code == 201
    assert response.json()["certificate_due_on"] == "2026-11-25"  # R6: Fri 20 Nov + 3 working days
    assert await outbox_types(intake) == ["case.mediation_declined.v1"]


@pytest.mark.clock("2026-07-01T23:30:00+00:00")  # 00:30 BST on Thu 2 July in England
async def test_r23_a_portal_told_today_just_after_midnight_bst_is_not_told_it_is_in_the_future(intake):
    body = case_payload(decision_date="2026-06-01", notice_sent_on="2026-06-02", told_on="2026-07-02")

    response = await intake.post("/v1/cases", json=body, headers=PORTAL)

    assert response.status_code == 201, response.text
    assert response.json()["mediate_by"] == "2026-08-01"  # R8: told Thu 2 July + 30 days


async def test_a_retry_with_the_same_idempotency_key_returns_the_original_case(intake):
    headers = {**PORTAL, "Idempotency-Key": "portal-request-42"}

    first = await intake.post("/v1/cases", json=case_payload(), headers=headers)
    second = await intake.post("/v1/cases", json=case_payload(), headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert await count(intake, Case) == 1
    assert await outbox_types(intake) == ["case.submitted.v1"]


async def test_concurrent_retries_with_one_idempotency_key_all_get_the_original_case_and_none_fails(intake):
    headers = {**PORTAL, "Idempotency-Key": "portal-request-concurrent"}

    responses = await asyncio.gather(*(intake.post("/v1/cases", json=case_payload(), headers=headers)
                                       for _ in range(6)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["id"] for r in responses}) == 1
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
        ({"mediation_issues": []}, "body.mediation_issues"),  # R7: a mediation names its issues
        ({"child": None}, "body.child"),
        ({"meeting_needs": {"languages": ["Polish!"]}}, "body.meeting_needs.languages.0"),
        ({"meeting_needs": {"school_urn": "the local school"}}, "body.meeting_needs.school_urn"),
        ({"meeting_needs": {"dietary": ["vegan"]}}, "body.meeting_needs.dietary"),
        # R7: health provision only with health issues
        ({"health_provision_wanted": "Weekly therapy"}, "body.health_provision_wanted"),
        ({"health_only": True}, "body.health_only"),  # R8
        ({"adviser_contacted_on": "2026-11-02"}, "body.adviser_contacted_on"),  # R4: before the notice was sent
        ({"health_notice_sent_on": "2026-11-23"}, "body.health_notice_sent_on"),  # R8: no health issues
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
    assert {"200", "401", "403", "404", "409", "422"} <= set(
        spec["paths"]["/v1/cases/{case_id}/health-notice"]["post"]["responses"])
    assert {"200", "401", "403", "404", "409", "422"} <= set(
        spec["paths"]["/v1/reviews/{review_id}/resolution"]["post"]["responses"])
    assert {"200", "401", "403"} <= set(spec["paths"]["/v1/reviews"]["get"]["responses"])


async def test_r8_health_only_mediation_is_arranged_by_the_commissioning_body_told_within_3_working_days(intake):
    response = await intake.post("/v1/cases", json=case_payload(health_issues=True, health_only=True),
                                 headers=PORTAL)

    case = response.json()
    assert case["arranging_body"] == "health_commissioning_body"
    assert case["health_bodies_told_by"] == "2026-11-25"  # Fri 20 Nov + 3 working days


async def test_r17_t6_the_appeal_deadline_is_on_the_case_and_moves_when_the_certificate_is_issued(intake):
    created = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)).json()
    assert created["appeal_deadline"] == "2027-01-04"  # notice 3 Nov + 2 months = Sun 3 Jan: next working day

    async with intake.app.state.runtime.sessionmaker() as session:
        await case_service.record_certificate(session, created["id"], date(2026, 12, 14))
        await session.commit()

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()
    assert case["certificate_issued_on"] == "2026-12-14"
    assert case["appeal_deadline"] == "2027-01-14"  # certificate + 1 month is later
    assert case["status"] == "certificate_issued"


@pytest.mark.parametrize(
    ("matters", "required"),
    [(["named_school"], False), (["named_school_type", "no_school_named"], False),
     (["named_school", "section_f"], True), (["section_b"], True)],
)
async def test_r3_the_exemption_check_answers_at_once_whether_a_certificate_is_needed(intake, matters, required):
    response = await intake.post("/v1/exemption-checks", headers=PORTAL,
                                 json={"appeal_about": matters, "notice_sent_on": "2026-11-03"})

    answer = response.json()
    assert response.status_code == 200
    assert answer["certificate_required"] is required
    assert answer["appeal_deadline"] == (None if required else "2027-01-04")
    assert await count(intake, Case) == 0


async def test_r6_a_parent_who_chose_mediation_can_decline_and_the_adviser_certificate_falls_due(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()

    response = await intake.post(f"/v1/cases/{created['id']}/decline", headers=PORTAL,
                                 json={"told_on": "2026-11-24"})

    case = response.json()
    assert (case["status"], case["certificate_due_on"]) == ("declined", "2026-11-27")  # R6: Tue + 3 working days
    assert await outbox_types(intake) == ["case.submitted.v1", "case.mediation_declined.v1"]


async def test_r7_a_parent_who_declined_can_ask_for_mediation_and_the_30_days_run_from_then(intake):
    created = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)).json()

    response = await intake.post(f"/v1/cases/{created['id']}/mediation-request", headers=PORTAL,
                                 json={"told_on": "2026-11-24", "mediation_issues": ["Section F"]})

    case = response.json()
    assert (case["status"], case["mediate_by"]) == ("submitted", "2026-12-24")
    assert await outbox_types(intake) == ["case.mediation_declined.v1", "case.submitted.v1"]


async def test_a_withdrawn_case_cannot_change_again_and_answers_409(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()
    withdrawn = await intake.post(f"/v1/cases/{created['id']}/withdrawal", headers=PORTAL,
                                  json={"reason": "no_longer_disputed"})

    again = await intake.post(f"/v1/cases/{created['id']}/decline", headers=PORTAL, json={"told_on": "2026-11-24"})

    assert withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"
    assert await outbox_types(intake) == ["case.submitted.v1", "case.withdrawn.v1"]


async def test_another_local_authority_cannot_withdraw_a_case(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()

    response = await intake.post(f"/v1/cases/{created['id']}/withdrawal", headers=OTHER_LA,
                                 json={"reason": "other"})

    assert response.status_code == 404


async def test_the_case_list_filters_by_status_kind_and_deadline_and_pages_with_a_cursor(intake):
    for _ in range(3):
        await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)
    await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]), headers=PORTAL)

    first = (await intake.get("/v1/cases?kind=mediation&limit=2", headers=PORTAL)).json()
    second = (await intake.get(f"/v1/cases?kind=mediation&limit=2&cursor={first['next_cursor']}",
                               headers=PORTAL)).json()
    declined = (await intake.get("/v1/cases?status=declined", headers=PORTAL)).json()
    due_soon = (await intake.get("/v1/cases?deadline_before=2026-11-26", headers=PORTAL)).json()
    bad_cursor = await intake.get("/v1/cases?cursor=bm90LWEtY3Vyc29y", headers=PORTAL)

    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}
    assert [c["kind"] for c in declined["items"]] == ["mediation_declined"]
    assert [c["kind"] for c in due_soon["items"]] == ["mediation_declined"]  # certificate due 25 Nov
    assert bad_cursor.status_code == 422


async def test_metrics_count_requests_by_route_template_not_by_raw_path(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()
    await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)

    metrics = (await intake.get("/metrics")).text

    assert 'route="/v1/cases/{case_id}"' in metrics
    assert created["id"] not in metrics


def dr_payload(dr_type: int, parties: list[dict], **overrides: object) -> dict:
    body = {"kind": "disagreement_resolution", "dr_type": dr_type, "summary": "Speech and language support",
            "parties": parties, "child": {"name": "Sam Example", "date_of_birth": "2015-06-01"}}
    body.update(overrides)
    return body


PARENT = {"role": "parent", "name": "Alex Example", "email": "alex@example.org", "consented_on": "2026-11-20"}


@pytest.mark.parametrize(("dr_type", "other"), [(1, "local_authority"), (2, "school"), (3, "icb")])
async def test_r21_disagreement_resolution_of_types_1_to_3_is_accepted_with_the_family_and_the_other_side(
        intake, dr_type, other):
    response = await intake.post("/v1/cases", headers=PORTAL,
                                 json=dr_payload(dr_type, [PARENT, {"role": other, "name": "Them"}]))

    case = response.json()
    assert response.status_code == 201
    assert (case["kind"], case["dr_type"], case["all_parties_consented"]) == ("disagreement_resolution", dr_type, False)
    assert case["appeal_deadline"] is None and case["mediate_by"] is None  # no Tribunal clock, no certificate
    assert await outbox_types(intake) == ["case.disagreement_resolution_requested.v1"]


async def test_r21_a_type_4_disagreement_has_no_parent_party(intake):
    parties = [{"role": "local_authority", "name": "Southend-on-Sea City Council"},
               {"role": "icb", "name": "NHS Mid and South Essex ICB"}]

    accepted = await intake.post("/v1/cases", headers=PORTAL, json=dr_payload(4, parties, child=None))
    refused = await intake.post("/v1/cases", headers=PORTAL, json=dr_payload(4, [PARENT, *parties], child=None))

    assert accepted.status_code == 201
    assert accepted.json()["dr_parties"][0]["role"] == "local_authority"
    assert refused.status_code == 422
    assert "body.parties.0.role" in [e["field"] for e in refused.json()["errors"]]
    assert await count(intake, Case) == 1


async def test_r21_consent_is_recorded_party_by_party_until_every_party_has_consented(intake):
    created = (await intake.post("/v1/cases", headers=PORTAL,
                                 json=dr_payload(2, [PARENT, {"role": "school", "name": "Example Primary"}]))).json()

    response = await intake.post(f"/v1/cases/{created['id']}/consents", headers=PORTAL,
                                 json={"role": "school", "consented_on": "2026-11-24"})
    unknown = await intake.post(f"/v1/cases/{created['id']}/consents", headers=PORTAL,
                                json={"role": "icb", "consented_on": "2026-11-24"})

    assert response.json()["all_parties_consented"] is True
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.role"
    assert await outbox_types(intake) == ["case.disagreement_resolution_requested.v1", "case.consent_recorded.v1"]


async def test_r21_a_disagreement_resolution_case_cannot_decline_mediation(intake):
    created = (await intake.post("/v1/cases", headers=PORTAL,
                                 json=dr_payload(2, [PARENT, {"role": "school", "name": "Example Primary"}]))).json()

    response = await intake.post(f"/v1/cases/{created['id']}/decline", headers=PORTAL, json={"told_on": "2026-11-24"})

    assert response.status_code == 409


async def test_a_portal_whose_la_is_not_in_the_directory_cannot_submit(intake):
    response = await intake.post("/v1/cases", json=case_payload(), headers=OTHER_LA)

    assert response.status_code == 403
    assert response.json()["code"] == "unknown_local_authority"
    assert await count(intake, Case) == 0


async def outbox_data(client: httpx.AsyncClient, event_type: str) -> list[dict]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxEvent).where(OutboxEvent.type == event_type)
                                   .order_by(OutboxEvent.id))).all()
        return [json.loads(row.envelope)["data"] for row in rows]


HEALTH_ONLY = {"health_issues": True, "health_only": True, "mediation_issues": ["Section G: therapy"]}


async def test_r8_a_health_only_mediation_runs_30_days_from_the_notice_the_system_sends_today(intake):
    response = await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY), headers=PORTAL)

    case = response.json()
    deadlines = {d["name"]: d for d in case["deadlines"]}
    assert case["health_notice_sent_on"] == "2026-11-25"  # submitted (and the notice sent) Wed 25 Nov
    assert case["mediate_by"] == "2026-12-25"  # not told 20 Nov + 30 days
    assert (deadlines["mediate_by"]["trigger"], deadlines["mediate_by"]["trigger_date"]) == (
        "health_notice_sent_on", "2026-11-25")
    assert case["last_bookable_day"] == "2026-12-24"  # Fri 25 Dec is Christmas Day
    assert case["health_bodies_told_by"] == "2026-11-25"  # the LA's own duty is unchanged: told + 3 working days
    [submitted] = await outbox_data(intake, "case.submitted.v1")
    [referral] = await outbox_data(intake, "case.health_referral.v1")
    assert submitted["mediate_by"] == referral["mediate_by"] == "2026-12-25"


async def test_r8_the_portal_may_give_an_earlier_day_the_notice_went_but_not_before_the_la_was_told(intake):
    accepted = await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY, health_notice_sent_on="2026-11-23"),
                                 headers=PORTAL)
    too_early = await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY, health_notice_sent_on="2026-11-19"),
                                  headers=PORTAL)
    future = await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY, health_notice_sent_on="2026-11-26"),
                               headers=PORTAL)

    assert accepted.json()["mediate_by"] == "2026-12-23"
    assert [e["field"] for e in too_early.json()["errors"]] == ["body.health_notice_sent_on"]
    assert [e["field"] for e in future.json()["errors"]] == ["body.health_notice_sent_on"]


async def test_r8_the_notice_day_reported_later_moves_mediate_by_tells_scheduling_and_the_timeline_says_why(intake):
    created = (await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY), headers=PORTAL)).json()

    response = await intake.post(f"/v1/cases/{created['id']}/health-notice", headers=PORTAL,
                                 json={"sent_on": "2026-11-24"})
    refused = await intake.post(f"/v1/cases/{created['id']}/health-notice", headers=PORTAL,
                                json={"sent_on": "2026-11-19"})

    case = response.json()
    assert response.status_code == 200
    assert (case["health_notice_sent_on"], case["mediate_by"], case["last_bookable_day"]) == (
        "2026-11-24", "2026-12-24", "2026-12-24")
    [changed] = await outbox_data(intake, "case.deadlines_changed.v1")
    assert (changed["mediate_by"], changed["last_bookable_day"], changed["trigger"], changed["trigger_date"]) == (
        "2026-12-24", "2026-12-24", "health_notice_sent_on", "2026-11-24")
    [moved] = [e for e in case["timeline"] if e["kind"] == "deadline_moved"]
    assert "2026-12-24" in moved["summary"] and "2026-12-25" in moved["summary"]
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.sent_on"


async def test_r8_a_mediation_without_health_issues_has_no_health_notice_to_report(intake):
    created = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()

    response = await intake.post(f"/v1/cases/{created['id']}/health-notice", headers=PORTAL,
                                 json={"sent_on": "2026-11-24"})

    assert response.status_code == 409
    assert response.json()["code"] == "no_health_notice"


async def test_r2_a_health_only_case_shows_no_appeal_deadline_and_says_why(intake):
    created = (await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY), headers=PORTAL)).json()
    async with intake.app.state.runtime.sessionmaker() as session:
        await case_service.record_certificate(session, created["id"], date(2026, 11, 25))
        await session.commit()

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()

    assert created["appeal_deadline"] is None and case["appeal_deadline"] is None
    assert "cannot be appealed" in case["appeal_deadline_reason"]
    assert "Ombudsman" in case["appeal_deadline_reason"]
    assert case["appeal_deadline_passed"] is None
    [appeal] = [d for d in case["deadlines"] if d["name"] == "appeal_deadline"]
    assert (appeal["rule"], appeal["date"]) == ("R2", None)


LATE = {"decision_date": "2026-09-01", "notice_sent_on": "2026-09-01", "told_on": "2026-11-20"}


async def test_r4_contact_after_the_window_sets_late_contact_and_opens_a_review_for_the_la_and_ops(intake):
    created = (await intake.post("/v1/cases", json=case_payload(**LATE, adviser_contacted_on="2026-11-02"),
                                 headers=PORTAL)).json()

    for_ops = (await intake.get("/v1/reviews", headers=OPS)).json()
    for_la = (await intake.get("/v1/reviews", headers=PORTAL)).json()
    for_other_la = (await intake.get("/v1/reviews", headers=OTHER_LA)).json()

    assert (created["late_contact"], created["review_needed"], created["adviser_contacted_on"]) == (
        True, True, "2026-11-02")  # window: 1 Sep + 2 months = 1 Nov
    [review] = created["reviews"]
    assert (review["kind"], review["status"]) == ("late_contact", "open")
    assert [r["id"] for r in for_ops["items"]] == [r["id"] for r in for_la["items"]] == [review["id"]]
    assert for_other_la["items"] == []
    [submitted] = await outbox_data(intake, "case.submitted.v1")
    assert submitted["late_contact"] is True  # certificates holds back: never an automatic certificate
    assert created["appeal_deadline_passed"] is True  # notice 1 Sep + 2 months = Sun 1 Nov -> Mon 2 Nov, 5pm


async def test_r4_a_late_contact_review_is_resolved_once_with_a_decision_and_reason(intake):
    created = (await intake.post("/v1/cases", json=case_payload(**LATE, kind="mediation_declined",
                                                                mediation_issues=[]), headers=PORTAL)).json()
    [review] = created["reviews"]

    response = await intake.post(f"/v1/reviews/{review['id']}/resolution", headers=OPS,
                                 json={"decision": "refused", "reason": "No reason given for the delay"})
    again = await intake.post(f"/v1/reviews/{review['id']}/resolution", headers=PORTAL,
                              json={"decision": "accepted", "reason": "Changed our mind"})
    other_la = await intake.post(f"/v1/reviews/{review['id']}/resolution", headers=OTHER_LA,
                                 json={"decision": "accepted", "reason": "Not ours"})
    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision"]) == ("resolved", "refused")
    assert again.status_code == 409 and again.json()["code"] == "review_already_resolved"
    assert other_la.status_code == 404
    assert case["review_needed"] is False and case["late_contact"] is True
    [declined] = await outbox_data(intake, "case.mediation_declined.v1")
    assert declined["late_contact"] is True
    [resolved] = await outbox_data(intake, "case.review_resolved.v1")
    assert (resolved["kind"], resolved["decision"]) == ("late_contact", "refused")
    assert "No reason given" not in json.dumps(resolved)  # the reason stays in intake


async def test_r4_contacting_the_adviser_in_time_is_not_late_though_the_la_was_told_after_the_window(intake):
    response = await intake.post("/v1/cases", json=case_payload(**LATE, adviser_contacted_on="2026-10-15"),
                                 headers=PORTAL)

    case = response.json()
    assert (case["late_contact"], case["review_needed"], case["reviews"]) == (False, False, [])
    assert (await intake.get("/v1/reviews", headers=OPS)).json()["items"] == []


async def test_r17_every_statutory_date_comes_back_explained_with_its_rule_trigger_and_steps(intake):
    case = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).json()

    deadlines = {d["name"]: d for d in case["deadlines"]}

    assert set(deadlines) == {"contact_window_ends_on", "mediate_by", "last_bookable_day", "latest_notice_day",
                              "appeal_deadline"}
    assert deadlines["appeal_deadline"] == {
        "name": "appeal_deadline", "rule": "R17", "date": "2027-01-04", "trigger": "notice_sent_on",
        "trigger_date": "2026-11-03", "steps": [
            "notice sent Tue 3 Nov 2026 + 2 months = Sun 3 Jan 2027",
            "Sun 3 Jan 2027 is not a working day -> the next working day, Mon 4 Jan 2027 (HESC 12(2))",
            "received by the Tribunal by 5pm (HESC 12(1))"]}
    assert (deadlines["mediate_by"]["rule"], deadlines["mediate_by"]["trigger"]) == ("R8", "told_on")
    assert (case["last_bookable_day"], case["latest_notice_day"]) == ("2026-12-18", "2026-12-10")
    assert case["appeal_deadline_passed"] is False


async def test_r17_the_timeline_says_the_certificate_moved_the_appeal_deadline(intake):
    created = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)).json()
    async with intake.app.state.runtime.sessionmaker() as session:
        await case_service.record_certificate(session, created["id"], date(2026, 12, 14))
        await session.commit()

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()

    [moved] = [e for e in case["timeline"] if e["kind"] == "deadline_moved"]
    assert "2027-01-04" in moved["summary"] and "2027-01-14" in moved["summary"] and "certificate" in moved["summary"]
    [appeal] = [d for d in case["deadlines"] if d["name"] == "appeal_deadline"]
    assert (appeal["trigger"], appeal["trigger_date"]) == ("certificate_issued_on", "2026-12-14")


async def test_cross_field_errors_name_the_field_without_a_value_error_prefix(intake):
    response = await intake.post("/v1/cases", json=case_payload(health_only=True), headers=PORTAL)

    [error] = response.json()["errors"]
    assert error == {"field": "body.health_only",
                     "reason": "a health-only mediation must have health_issues true (R8)"}


async def test_r21_a_disagreement_resolution_meeting_is_called_that_on_the_timeline(intake):
    created = (await intake.post("/v1/cases", headers=PORTAL,
                                 json=dr_payload(2, [PARENT, {"role": "school", "name": "Example Primary"}]))).json()

    await handle(intake, TimelineMeetingScheduledV1(
        meeting_id="meeting-1", case_id=created["id"], provider_name="Example Mediation",
        starts_at=datetime(2026, 12, 3, 10, tzinfo=UTC), ends_at=datetime(2026, 12, 3, 12, tzinfo=UTC),
        kind="disagreement_resolution"), timeline_handlers.add_meeting_scheduled, subject=created["id"])

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()
    [booked] = [e for e in case["timeline"] if e["kind"] == "meeting_scheduled"]
    assert booked["summary"].startswith("Disagreement-resolution meeting booked for 03 Dec 2026 10:00")


@pytest.mark.parametrize(("overrides", "due"), [({}, "2026-11-30"), (HEALTH_ONLY, None)])
async def test_r15_a_held_mediation_starts_the_mediator_certificate_due_date_except_for_health_only(
        intake, overrides, due):
    created = (await intake.post("/v1/cases", json=case_payload(**overrides), headers=PORTAL)).json()

    await handle(intake, TimelineMeetingConcludedV1(
        meeting_id="meeting-1", case_id=created["id"], concluded_on=date(2026, 11, 25), held=True, agreement="partial"),
        timeline_handlers.add_meeting_concluded, subject=created["id"])

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()
    assert (case["status"], case["certificate_due_on"]) == ("meeting_concluded", due)  # Wed 25 Nov + 3 working days
    explained = [d for d in case["deadlines"] if d["name"] == "certificate_due_on"]
    assert [(d["rule"], d["trigger"]) for d in explained] == ([("R15", "meeting_concluded_on")] if due else [])


async def test_r2_the_portal_timeline_says_why_a_health_only_mediation_has_no_certificate(intake):
    created = (await intake.post("/v1/cases", json=case_payload(**HEALTH_ONLY), headers=PORTAL)).json()

    await handle(intake, CertificateNotRequiredV1(
        case_id=created["id"], kind="mediator", trigger_ref="meeting-1", triggered_on=date(2026, 11, 25),
        reason="health_only", decided_on=date(2026, 11, 25)),
        timeline_handlers.add_certificate_not_required, subject=created["id"])

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()
    [entry] = [e for e in case["timeline"] if e["kind"] == "certificate_not_required"]
    assert entry["summary"] == ("No mediator certificate: health care provision alone cannot be appealed "
                                "to the Tribunal (R2)")


async def test_r4_the_portal_timeline_shows_that_a_person_decides_on_a_late_contact(intake):
    created = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                 headers=PORTAL)).json()

    await handle(intake, CertificateReviewRequestedV1(
        review_id="review-1", case_id=created["id"], kind="late_contact", certificate_kind="adviser",
        opened_on=date(2026, 11, 25)), timeline_handlers.add_certificate_review_requested, subject=created["id"])

    case = (await intake.get(f"/v1/cases/{created['id']}", headers=PORTAL)).json()
    [entry] = [e for e in case["timeline"] if e["kind"] == "certificate_review_requested"]
    assert entry["summary"] == ("A person decides on the adviser certificate: the adviser was contacted after "
                                "the 2-month window (R4)")
    assert entry["reference"] == "review-1"
