"""One case end to end through four separate services on real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import io
import json
import uuid

import httpx
import pypdf
import pytest
from support import PORTAL, case_payload, eventually

from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET
from shared import webhooks

pytestmark = pytest.mark.e2e


async def timeline_step(client: httpx.AsyncClient, case_id: str, kind: str) -> dict | None:
    case = (await client.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return next((entry for entry in case["timeline"] if entry["kind"] == kind), None)


async def certificate_email_sent(client: httpx.AsyncClient, case_id: str) -> dict | None:
    case = (await client.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return next((e for e in case["timeline"] if e["kind"] == "email_sent"
                 and "'certificate_issued' sent to the requester" in e["summary"]), None)


def emails_about(system, reference: str) -> list:
    """The parent's emails about the case (the LA officer gets its own: test_notifications_recipients.py)."""
    return [m for m in system.smtp.handler.messages()
            if reference in m.get_body(("plain",)).get_content() and m["X-Envelope-To"] == "alex@example.org"]


async def test_a_mediation_goes_from_submission_to_a_certificate_in_the_parents_inbox(system):
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        case = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).raise_for_status().json()

        booked = await eventually(lambda: timeline_step(intake, case["id"], "meeting_scheduled"),
                                  what="the meeting booked")
        held_on = system.after_meeting(booked["reference"])
        body = json.dumps({"type": "meeting.outcome_reported", "data": {
            "meeting_id": booked["reference"], "held": True, "concluded_on": held_on.isoformat(),
            "agreement": "none"}}).encode()
        headers = webhooks.sign(DEVELOPMENT_PROVIDER_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
        outcome = httpx.post(f"{system.url('scheduling')}/v1/webhooks/provider", content=body,
                             headers={**headers, "content-type": "application/json"})
        assert outcome.status_code == 200
        await eventually(lambda: certificate_email_sent(intake, case["id"]), timeout=90,
                         what="the certificate emailed")
        final = (await intake.get(f"/v1/cases/{case['id']}", headers=PORTAL)).json()

    kinds = [entry["kind"] for entry in final["timeline"]]
    steps = ["submitted", "meeting_scheduled", "meeting_concluded", "certificate_issued"]
    assert [kind for kind in kinds if kind in steps] == steps
    assert kinds.index("certificate_issued") < len(kinds) - 1 - kinds[::-1].index("email_sent")
    assert final["status"] == "certificate_issued"
    certificate_id = next(e["reference"] for e in final["timeline"] if e["kind"] == "certificate_issued")
    subjects = sorted(m["Subject"] for m in emails_about(system, final["reference"]))
    assert subjects == ["We have received your request for mediation", "Your mediation certificate",
                        "Your mediation meeting is booked"]
    [email] = [m for m in emails_about(system, final["reference"]) if m["Subject"] == "Your mediation certificate"]
    [attachment] = [a for a in email.iter_attachments() if a.get_content_type() == "application/pdf"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "took part in mediation" in text
    assert held_on.strftime("%-d %B %Y") in text  # the mediation date is the meeting's day
    async with httpx.AsyncClient(base_url=system.url("certificates"), timeout=30) as certificates:
        download = await certificates.get(f"/v1/certificates/{certificate_id}/pdf", headers=PORTAL)
    assert download.status_code == 200
    assert download.content == attachment.get_content()


async def test_a_decline_receives_its_adviser_certificate_by_email(system):
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        case = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                  headers=PORTAL)).raise_for_status().json()
        await eventually(lambda: certificate_email_sent(intake, case["id"]), timeout=90,
                         what="the certificate emailed")
        final = (await intake.get(f"/v1/cases/{case['id']}", headers=PORTAL)).json()

    kinds = [entry["kind"] for entry in final["timeline"]]
    assert kinds.index("mediation_declined") < kinds.index("certificate_issued")
    [email] = [m for m in emails_about(system, final["reference"]) if m["Subject"] == "Your mediation certificate"]
    [attachment] = [a for a in email.iter_attachments() if a.get_content_type() == "application/pdf"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "decided not to take part in mediation" in text
    assert "meeting_scheduled" not in kinds
