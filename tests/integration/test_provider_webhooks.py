"""The provider's signed outcome webhook (Standard Webhooks) against PostgreSQL and Kafka."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import select
from support import PORTAL, serve

from scheduling.main import create_app
from scheduling.mediator.models import Mediator
from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import InboundWebhook, Meeting, MeetingStatus
from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET, SchedulingSettings
from scheduling.webhook.schemas import MediatorUpdated
from shared import webhooks
from shared.events.cases import ReferralSubmittedV1
from shared.events.meetings import TIMELINE_TOPIC
from shared.outbox import OutboxEvent

#: The outbox rows but intake's copies of the meeting steps (scheduling.timeline).
NOT_TIMELINE = OutboxEvent.topic != TIMELINE_TOPIC

OTHER_PROVIDER_SECRET = webhooks.generate_secret()

#: The meeting is booked on Fri 20 Nov for Mon 30 Nov; the provider reports after it, on Fri 4 Dec.
pytestmark = pytest.mark.clock("2026-12-04T10:00:00+00:00")


@pytest.fixture
async def scheduling(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                  kafka_namespace=namespace, environment="test",
                                  other_provider_webhook_secrets={"other-provider": [OTHER_PROVIDER_SECRET]})
    app = create_app(settings)
    async with serve(app) as client:
        yield client


@pytest.fixture
async def meeting(scheduling: httpx.AsyncClient) -> Meeting:
    case = ReferralSubmittedV1(
        case_id="case-0001", reference="SEND-TEST0001", la_code="E06000033",
        mediate_by=date(2026, 12, 20))
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        booked = await meeting_service.book_for_case(session, case, today=date(2026, 11, 20),
                                                     timezone="Europe/London")
        await session.commit()
    return booked


def outcome(meeting_id: str, **overrides: object) -> bytes:
    data = {"meeting_id": meeting_id, "held": True, "concluded_on": "2026-11-30", "agreement": "partial"}
    return json.dumps({"type": "meeting.outcome_reported", "data": {**data, **overrides}}).encode()


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/webhooks/provider", content=body,
                             headers={**headers, "content-type": "application/json"})


async def state(client: httpx.AsyncClient, meeting_id: str) -> tuple[MeetingStatus, list[str], int]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        found = await session.get(Meeting, meeting_id)
        assert found is not None
        events = [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE).order_by(OutboxEvent.id))).all()]
        received = len((await session.exec(select(InboundWebhook))).all())
        return found.status, events, received


async def test_a_signed_outcome_concludes_the_meeting_and_announces_it(scheduling, meeting):
    body = outcome(meeting.id)

    response = await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_1", body=body))

    assert response.status_code == 200
    assert response.json() == {"status": "applied", "webhook_id": "msg_1", "meeting_id": meeting.id}
    assert await state(scheduling, meeting.id) == (
        MeetingStatus.concluded, ["meeting.scheduled.v1", "meeting.concluded.v1"], 1)


async def test_a_replayed_webhook_id_is_acknowledged_and_changes_nothing(scheduling, meeting):
    body = outcome(meeting.id)
    headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_2", body=body)
    await post(scheduling, body, headers)

    response = await post(scheduling, body, headers)

    assert response.json()["status"] == "duplicate"
    assert await state(scheduling, meeting.id) == (
        MeetingStatus.concluded, ["meeting.scheduled.v1", "meeting.concluded.v1"], 1)


async def test_a_webhook_id_already_used_by_another_provider_is_applied_not_dropped_as_duplicate(scheduling, meeting):
    body = outcome(meeting.id)
    await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_shared", body=body))
    mediator = {**MediatorUpdated.model_config["json_schema_extra"]["examples"][0]["data"],  # type: ignore[index]
                "id": "other-med-0001"}
    other = json.dumps({"type": "mediator.updated", "data": mediator}).encode()

    response = await post(scheduling, other, webhooks.sign(OTHER_PROVIDER_SECRET, msg_id="msg_shared", body=other))
    replayed = await post(scheduling, other, webhooks.sign(OTHER_PROVIDER_SECRET, msg_id="msg_shared", body=other))

    assert response.status_code == 200
    assert response.json()["status"] == "applied"
    assert replayed.json()["status"] == "duplicate"
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(InboundWebhook).where(InboundWebhook.webhook_id == "msg_shared"))).all()
        assert sorted(row.provider_id for row in rows) == ["kids-send-mediation", "other-provider"]
        assert await session.get(Mediator, "other-med-0001") is not None


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body, meeting_id: (outcome(meeting_id, agreement="full"),
                                               webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="m", body=body)),
                     id="tampered body"),
        pytest.param(lambda body, _: (body, webhooks.sign(webhooks.generate_secret(), msg_id="m", body=body)),
                     id="wrong secret"),
        pytest.param(lambda body, _: (body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="m", body=body,
                                                          timestamp=datetime.now(UTC) - timedelta(minutes=10))),
                     id="stale timestamp"),
        pytest.param(lambda body, _: (body, {**webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="m", body=body),
                                             "webhook-signature": "v1,not-base64!"}),
                     id="garbled signature"),
        pytest.param(lambda body, _: (body, {**webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="m", body=body),
                                             "webhook-id": "another-id"}),
                     id="id swapped after signing"),
    ],
)
async def test_a_webhook_that_does_not_verify_is_refused_and_changes_nothing(scheduling, meeting, forge):
    body, headers = forge(outcome(meeting.id), meeting.id)

    response = await post(scheduling, body, headers)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_webhook_signature"
    assert await state(scheduling, meeting.id) == (MeetingStatus.scheduled, ["meeting.scheduled.v1"], 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"type": "meeting.rescheduled_by_magic", "data": {}}', "body.type"),
        (b'{"type": "meeting.outcome_reported", "data": {"held": true}}', "body.data.meeting_id"),
    ],
)
async def test_an_unknown_type_or_invalid_payload_is_refused_naming_the_problem(scheduling, meeting, body, field):
    response = await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="m", body=body))

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await state(scheduling, meeting.id) == (MeetingStatus.scheduled, ["meeting.scheduled.v1"], 0)


@pytest.mark.clock("2026-11-27T10:00:00+00:00")
async def test_r15_an_outcome_for_a_meeting_whose_day_has_not_come_is_refused(scheduling, meeting):
    body = outcome(meeting.id, concluded_on="2026-11-27")  # the meeting is on Mon 30 Nov

    response = await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_early", body=body))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body.data.meeting_id"
    assert "2026-11-30" in error["reason"] and "has not taken place yet" in error["reason"]
    assert await state(scheduling, meeting.id) == (MeetingStatus.scheduled, ["meeting.scheduled.v1"], 0)


async def test_an_outcome_for_an_unknown_meeting_is_refused_and_its_id_not_burnt(scheduling, meeting):
    body = outcome("no-such-meeting")
    headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_3", body=body)

    response = await post(scheduling, body, headers)

    assert response.status_code == 404
    assert await state(scheduling, meeting.id) == (MeetingStatus.scheduled, ["meeting.scheduled.v1"], 0)


async def test_r11_r13_the_booking_gives_five_clear_working_days_and_an_independent_mediator(meeting):
    assert meeting.starts_at.date() == date(2026, 11, 30)  # notice Fri 20 Nov; clear days 23-27 Nov
    assert meeting.mediator_id in {"med-0001", "med-0002", "med-0003"}
    assert "med-0004" in meeting.assignment_reason and "med-0005" in meeting.assignment_reason


async def test_r18_r19_the_outcome_keeps_issues_and_follow_up_deadlines_in_scheduling_only(scheduling, meeting):
    body = outcome(meeting.id, agreement="partial", resolved_issues=["Section F speech therapy"],
                   unresolved_issues=["Section I placement"],
                   agreement_items=[{"kind": "amend_plan"},
                                    {"kind": "change_named_school", "agreed_timescale_days": 21,
                                     "written_agreement": True}])

    response = await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_r18", body=body))

    assert response.status_code == 200
    async with scheduling.app.state.runtime.sessionmaker() as session:
        stored = await session.get(Meeting, meeting.id)
        events = [row.envelope for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE))).all()]
    assert stored.outcome["follow_ups"] == [
        {"kind": "amend_plan", "step": "amend_plan", "due_on": "2027-01-04"},  # 30 Nov + 5 weeks
        {"kind": "change_named_school", "step": "change_named_school", "due_on": "2026-12-21"},  # agreed: 21 days
    ]
    assert stored.outcome["unresolved_issues"] == ["Section I placement"]
    assert not any("Section" in envelope for envelope in events)  # R20: nothing of it in events
    shown_to_the_la = (await scheduling.get(f"/v1/meetings/{meeting.id}", headers=PORTAL)).json()
    assert (shown_to_the_la["resolved_issues"], shown_to_the_la["unresolved_issues"]) == (
        ["Section F speech therapy"], ["Section I placement"])


async def test_r23_a_changed_timescale_without_a_written_agreement_is_refused(scheduling, meeting):
    body = outcome(meeting.id, agreement_items=[{"kind": "amend_plan", "agreed_timescale_days": 60}])

    response = await post(scheduling, body, webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id="msg_r23", body=body))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.data.agreement_items.0.written_agreement"
    assert await state(scheduling, meeting.id) == (MeetingStatus.scheduled, ["meeting.scheduled.v1"], 0)
