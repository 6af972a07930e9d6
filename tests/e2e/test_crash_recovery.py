"""Nothing lost, nothing twice: SIGKILL certificates and notifications mid-stream (DESIGN.md §4)."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict

import asyncpg
import httpx
import pytest
from support import PORTAL, case_payload, eventually

from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET
from shared import webhooks

pytestmark = pytest.mark.e2e

DECLINES = 16
MEDIATIONS = 6
KILLED = ("certificates", "notifications")


@pytest.fixture
def system_env() -> dict[str, dict[str, str]]:
    """An email whose send a kill cut short is taken again once its lease has passed (the whole-send bound, the
    shutdown grace and 30 s). The test's SMTP server answers in milliseconds, so a 10 s bound keeps that wait
    under a minute instead of the production default's two and a half."""
    return {"notifications": {"NOTIFICATIONS_SMTP_SEND_TIMEOUT_SECONDS": "10"}}


async def issued_certificates(database_url: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch("SELECT case_id, number FROM certificates WHERE status = 'issued'")
    finally:
        await connection.close()
    return [(row["case_id"], row["number"]) for row in rows]


async def reminders_outliving_their_cancellation(database_url: str) -> list[tuple[str, str]]:
    """Pending reminders whose cancelling fact (decline, conclusion, certificate, withdrawal) notifications knows."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT r.case_id, r.kind FROM reminders r WHERE r.status = 'pending' AND EXISTS ("
            " SELECT 1 FROM reminder_cancellations c WHERE c.case_id = r.case_id"
            " AND (c.kind IS NULL OR c.kind = r.kind) AND (c.about_id IS NULL OR c.about_id = r.about_id))")
    finally:
        await connection.close()
    return [(row["case_id"], row["kind"]) for row in rows]


async def certificate_emailed(intake: httpx.AsyncClient, case_id: str) -> bool:
    case = (await intake.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return any(e["kind"] == "email_sent" and "'certificate_issued' sent to the requester" in e["summary"]
               for e in case["timeline"])


async def test_killing_certificates_and_notifications_loses_nothing_and_issues_nothing_twice(system):
    system.kill(*KILLED)
    cases = []
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        for _ in range(DECLINES):
            cases.append((await intake.post("/v1/cases", headers=PORTAL, json=case_payload(
                kind="mediation_declined", mediation_issues=[]))).raise_for_status().json())
        for _ in range(MEDIATIONS):
            cases.append((await intake.post("/v1/cases", headers=PORTAL,
                                            json=case_payload())).raise_for_status().json())

        async def booked(case_id: str) -> str | None:
            case = (await intake.get(f"/v1/cases/{case_id}", headers=PORTAL)).json()
            return next((e["reference"] for e in case["timeline"] if e["kind"] == "meeting_scheduled"), None)

        for case in cases[DECLINES:]:  # the provider reports outcomes while certificates is down
            meeting_id = await eventually(lambda case=case: booked(case["id"]), what="the meeting booked")
            held_on = system.after_meeting(meeting_id)
            body = json.dumps({"type": "meeting.outcome_reported", "data": {
                "meeting_id": meeting_id, "held": True, "concluded_on": held_on.isoformat(),
                "agreement": "full"}}).encode()
            headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
            httpx.post(f"{system.url('scheduling')}/v1/webhooks/provider", content=body,
                       headers={**headers, "content-type": "application/json"}).raise_for_status()

        # Restart, and crash again while certificates are being issued and emailed.
        system.start(*KILLED)
        await eventually(lambda: _at_least(system.database_urls["certificates"], 3), timeout=120,
                         interval=0.05, what="some certificates issued")
        system.kill(*KILLED)
        system.start(*KILLED)

        for case in cases:
            await eventually(lambda case=case: certificate_emailed(intake, case["id"]), timeout=180,
                             what=f"the certificate of {case['reference']} emailed")

    certificates = await issued_certificates(system.database_urls["certificates"])
    per_case = Counter(case_id for case_id, _ in certificates)
    assert per_case == Counter({case["id"]: 1 for case in cases})
    message_ids: dict[str, set[str]] = defaultdict(set)
    for email in system.smtp.handler.messages():
        if email["Subject"] == "Your mediation certificate":
            message_ids[email.get_body(("plain",)).get_content().split("reference ")[1].split(")")[0]].add(
                email["Message-ID"])
    # One certificate email per certificate. A copy re-sent because a kill fell between the
    # server's 250 and our commit carries the same Message-ID (RFC 1047), so it is the same email.
    assert {ref: len(ids) for ref, ids in message_ids.items()} == {case["reference"]: 1 for case in cases}
    # Declines, conclusions and certificates cancel the reminders they make pointless, whatever order the
    # restarts made notifications handle them in.
    assert await reminders_outliving_their_cancellation(system.database_urls["notifications"]) == []


async def _at_least(database_url: str, count: int) -> bool:
    return len(await issued_certificates(database_url)) >= count
