"""The mediation provider's side end to end: it receives the signed referral, books the meeting and reports the
outcome through its signed webhooks, and the parent's certificate follows. Four separate services, real Kafka,
PostgreSQL and SMTP, and a real HTTP endpoint for the provider."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from support import PORTAL, WebhookReceiver, case_payload, eventually

from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET
from shared import clock, webhooks
from shared.calendar import DEFAULT_CALENDAR
from shared.outbox import OutboxEvent

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def provider() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def system_env(provider: WebhookReceiver) -> dict[str, dict[str, str]]:
    return {"scheduling": {"SCHEDULING_PROVIDER_WEBHOOK_URL": provider.url}}


def signed_post(url: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
    return httpx.post(f"{url}/v1/webhooks/provider", content=body, headers={**headers, "content-type": "application/json"},
                      timeout=30)


async def test_a_referral_booked_and_concluded_by_the_provider_ends_in_the_parents_certificate(system, provider):
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        case = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).raise_for_status().json()

        async def referral() -> dict[str, Any] | None:
            for headers, body in provider.received:
                webhooks.verify([DEVELOPMENT_PROVIDER_SECRET], headers=headers, body=body)  # signed by us
                payload = json.loads(body)
                if payload["type"] == "case.referred" and payload["data"]["case_id"] == case["id"]:
                    return payload["data"]
            return None

        referred = await eventually(referral, what="the signed referral at the provider's endpoint")
        day = DEFAULT_CALENDAR.add_working_days(clock.today(), 8)
        starts_at = datetime.combine(day, time(14), tzinfo=LONDON)
        booked = signed_post(system.url("scheduling"), {"type": "meeting.booked", "data": {
            "case_id": case["id"], "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            "venue": {"kind": "remote", "url": "https://meet.example.org/kids/e2e"},
            "attendees": [{"role": "parent", "name": "Alex Example"},
                          {"role": "la_decision_maker", "name": "Pat Officer", "has_authority": True}],
            "child_views": {"status": "recorded", "method": "in_writing"}}})
        assert booked.status_code == 200, booked.text

        async with httpx.AsyncClient(base_url=system.url("scheduling"), timeout=30) as scheduling:
            meeting = (await scheduling.get(f"/v1/meetings/{referred['meeting_id']}", headers=PORTAL)).json()
        assert (meeting["booked_by"], meeting["sequence"]) == ("provider", 1)
        assert datetime.fromisoformat(meeting["starts_at"]) == starts_at

        concluded = signed_post(system.url("scheduling"), {"type": "meeting.outcome_reported", "data": {
            "meeting_id": referred["meeting_id"], "held": True, "agreement": "partial",
            "concluded_on": system.after_meeting(referred["meeting_id"]).isoformat(),
            "resolved_issues": ["Section F speech and language therapy"], "unresolved_issues": ["Section I"]}})
        assert concluded.status_code == 200, concluded.text

        async def certificate_issued() -> dict[str, Any] | None:
            found = (await intake.get(f"/v1/cases/{case['id']}", headers=PORTAL)).raise_for_status().json()
            return found if found["status"] == "certificate_issued" else None

        final = await eventually(certificate_issued, timeout=90, what="the mediator certificate issued")

    kinds = [entry["kind"] for entry in final["timeline"]]
    assert kinds.index("meeting_scheduled") < kinds.index("meeting_concluded") < kinds.index("certificate_issued")
    certificate_id = next(e["reference"] for e in final["timeline"] if e["kind"] == "certificate_issued")
    async with httpx.AsyncClient(base_url=system.url("certificates"), timeout=30) as certificates:
        certificate = (await certificates.get(f"/v1/certificates/{certificate_id}", headers=PORTAL)).json()
    assert certificate["kind"] == "mediator"
    assert "Section F" not in json.dumps(certificate)  # R20: what was mediated stays in scheduling

    # One trace runs from the portal's request through intake's event into scheduling's booking.
    [submitted] = await trace_ids(system.database_urls["intake"], "case.submitted.v1")
    [scheduled] = await trace_ids(system.database_urls["scheduling"], "meeting.scheduled.v1")
    assert submitted == scheduled


async def trace_ids(database_url: str, event_type: str) -> list[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text(f"SELECT envelope FROM {OutboxEvent.__tablename__} WHERE type = :t"),
                                             {"t": event_type})).all()
    finally:
        await engine.dispose()
    return [json.loads(row.envelope)["traceparent"].split("-")[1] for row in rows]
