"""``make demo``: push one mediation case (with the provider's signed outcome) and one decline
through the running system, then print both timelines and where the PDFs and emails are.

``make run`` follows the scenario clock "local": after the booking, the demo moves that clock to the day
after the meeting, as an operator rehearsing a case would, so the outcome is reported after the meeting.

Talks to the services over HTTP only, like a council portal and a mediation provider would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shared import webhooks

PORTAL_TOKEN = os.environ.get("DEMO_PORTAL_TOKEN", "dev-only-southend-portal")
OPS_TOKEN = os.environ.get("DEMO_OPS_TOKEN", "dev-only-ops")
LONDON = ZoneInfo("Europe/London")
PROVIDER_SECRET = os.environ.get("DEMO_PROVIDER_SECRET", "whsec_ZGV2LW9ubHkgcHJvdmlkZXIgd2ViaG9vayBzZWNyZXQ=")


def case_body(kind: str, today: date) -> dict[str, Any]:
    return {
        "kind": kind,
        "decision": "refusal_to_assess" if kind == "mediation" else "plan_contents",
        "decision_date": str(today - timedelta(days=20)),
        "notice_sent_on": str(today - timedelta(days=19)),
        "told_on": str(today),
        "requester": {"role": "parent", "name": "Alex Demo", "email": "alex.demo@example.org"},
        "child": {"name": "Sam Demo", "date_of_birth": "2015-06-01"},
        "mediation_issues": ["The refusal to carry out an EHC needs assessment"] if kind == "mediation" else [],
    }


def wait_for(client: httpx.Client, case_id: str, kind: str, timeout: float = 90.0, **match: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = client.get(f"/v1/cases/{case_id}").raise_for_status().json()
        for entry in case["timeline"]:
            if entry["kind"] == kind and all(m in entry["summary"] for m in match.values()):
                return entry
        time.sleep(0.5)
    raise TimeoutError(f"case {case_id} has no '{kind}' step after {timeout}s")


def wait_until_past(service_url: str, ops: dict[str, str], day: date, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while date.fromisoformat(httpx.get(f"{service_url}/v1/ops/clock", headers=ops, timeout=30)
                             .raise_for_status().json()["today"]) <= day:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service_url} did not follow the scenario clock past {day}")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intake", default=f"http://127.0.0.1:{os.environ.get('SEND_INTAKE_PORT', '8001')}")
    parser.add_argument("--scheduling", default=f"http://127.0.0.1:{os.environ.get('SEND_SCHEDULING_PORT', '8002')}")
    parser.add_argument("--certificates",
                        default=f"http://127.0.0.1:{os.environ.get('SEND_CERTIFICATES_PORT', '8003')}")
    parser.add_argument("--state-dir", default=".run", type=Path)
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {PORTAL_TOKEN}"}
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    today = date.fromisoformat(httpx.get(f"{args.intake}/v1/ops/clock", headers=ops, timeout=30)
                               .raise_for_status().json()["today"])  # the services' clock, not this machine's
    out = args.state_dir.resolve() / "demo"
    out.mkdir(parents=True, exist_ok=True)

    with httpx.Client(base_url=args.intake, headers=auth, timeout=30) as intake, \
         httpx.Client(base_url=args.certificates, headers=auth, timeout=30) as certificates:
        mediation = intake.post("/v1/cases", json=case_body("mediation", today),
                                headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status().json()
        print(f"Submitted mediation case {mediation['reference']} ({mediation['id']})")
        decline = intake.post("/v1/cases", json=case_body("mediation_declined", today),
                              headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status().json()
        print(f"Submitted decline case   {decline['reference']} ({decline['id']})")

        booked = wait_for(intake, mediation["id"], "meeting_scheduled")
        print(f"Meeting booked: {booked['summary']}")
        meeting = httpx.get(f"{args.scheduling}/v1/meetings/{booked['reference']}", headers=auth,
                            timeout=30).raise_for_status().json()
        held_on = datetime.fromisoformat(meeting["starts_at"]).astimezone(LONDON).date()
        after = datetime.combine(held_on + timedelta(days=1), clock_time(10), tzinfo=LONDON)
        moved = httpx.post(f"{args.intake}/v1/ops/clock", headers=ops, json={"to": after.isoformat()}, timeout=30)
        if moved.status_code == 200:
            print(f"Scenario clock moved to {moved.json()['now']} (the day after the meeting)")
        elif moved.status_code != 422:  # 422: the clock is already past that day (an earlier demo moved it)
            moved.raise_for_status()
        wait_until_past(args.scheduling, ops, held_on)  # each service follows the clock on its own
        body = json.dumps({"type": "meeting.outcome_reported",
                           "data": {"meeting_id": booked["reference"], "held": True,
                                    "concluded_on": str(held_on), "agreement": "partial"}}).encode()
        headers = webhooks.sign(PROVIDER_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
        response = httpx.post(f"{args.scheduling}/v1/webhooks/provider", content=body,
                              headers={**headers, "content-type": "application/json"}, timeout=30)
        response.raise_for_status()
        print(f"Provider outcome webhook: {response.json()['status']}")

        pdfs = []
        for case in (mediation, decline):
            issued = wait_for(intake, case["id"], "certificate_issued")
            wait_for(intake, case["id"], "email_sent", template="certificate_issued")
            facts = certificates.get(f"/v1/certificates/{issued['reference']}").raise_for_status().json()
            pdf = certificates.get(f"/v1/certificates/{issued['reference']}/pdf").raise_for_status()
            path = out / f"{facts['number']}.pdf"
            path.write_bytes(pdf.content)
            # What a Tribunal clerk does with the QR code: the number and the verification code printed on the
            # certificate, plus the parent's surname.
            answer = httpx.post(f"{args.certificates}/v1/verify", timeout=30,
                                json={"number": facts["number"], "code": facts["verification_code"],
                                      "surname": "Demo"}).raise_for_status().json()
            pdfs.append((path, f"{args.certificates}/v1/verify?number={facts['number']}"
                               f"&code={facts['verification_code']}", answer["status"]))

        for case in (mediation, decline):
            full = intake.get(f"/v1/cases/{case['id']}").raise_for_status().json()
            print(f"\nTimeline of {full['reference']} ({full['kind']}), status {full['status']}:")
            for entry in full["timeline"]:
                print(f"  {entry['occurred_at'][:19]}  {entry['kind']:<20} {entry['summary']}")

    print("\nSigned certificate PDFs, their verification URLs and what verification answers:")
    for path, url, status in pdfs:
        print(f"  {path}\n    {url}  ->  {status}")
    mail = args.state_dir.resolve() / "mail"
    print(f"\nEmails (in {mail}):")
    for eml in sorted(mail.glob("*.eml")):
        text = eml.read_text(errors="replace")
        if mediation["reference"] in text or decline["reference"] in text:
            print(f"  {eml}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
