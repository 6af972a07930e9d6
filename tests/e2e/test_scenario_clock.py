"""A scenario clock in a rehearsal: an operator moves it once, every service follows, and what falls due fires."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
import pytest
from support import OPS, PORTAL, case_payload, eventually

from shared import clock
from shared.localinfra.services import SERVICES

pytestmark = pytest.mark.e2e


async def test_every_service_follows_the_scenario_clock_an_operator_moves(system):
    rehearsal_day = clock.today() + timedelta(days=3)

    system.advance_clock(timedelta(days=3))

    async def agreed() -> dict[str, str] | None:
        todays = {}
        for spec in SERVICES:
            answer = httpx.get(f"{system.url(spec.name)}/v1/ops/clock", headers=OPS, timeout=10).json()
            todays[spec.name] = answer["today"]
        return todays if set(todays.values()) == {rehearsal_day.isoformat()} else None

    todays = await eventually(agreed, what="every service on the moved clock")
    assert sorted(todays) == sorted(spec.name for spec in SERVICES)


async def test_a_restarted_service_comes_back_on_the_moved_clock(system):
    system.advance_clock(timedelta(days=2))
    expected = clock.today().isoformat()

    system.kill("notifications")
    system.start("notifications")

    answer = httpx.get(f"{system.url('notifications')}/v1/ops/clock", headers=OPS, timeout=10).json()
    assert answer["today"] == expected


async def test_moving_the_clock_towards_day_30_raises_the_deadline_at_risk_alert_to_the_la_and_ops(system):
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        case = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).raise_for_status().json()
    mediate_by = date.fromisoformat(case["mediate_by"])

    def about_the_case(subject: str) -> list:
        return [m for m in system.smtp.handler.messages()
                if m["Subject"].startswith(subject) and case["reference"] in m.get_body(("plain",)).get_content()]

    async def received() -> list:  # notifications handled case.submitted, so the alert is planned
        return about_the_case("We have received your request")

    async def alerted() -> list:
        return about_the_case("Deadline at risk")

    async def alerted_both() -> set[str] | None:
        recipients = {m["X-Envelope-To"] for m in await alerted()}
        return recipients if {"ops@send-mediation.example", "send.team@southend.gov.uk"} <= recipients else None

    await eventually(received, what="the request acknowledged")
    assert await alerted() == []  # a rehearsal starts weeks before the alert is due

    target = datetime.combine(mediate_by - timedelta(days=3), time(12), tzinfo=clock.LONDON)
    system.advance_clock(target - clock.now())

    recipients = await eventually(alerted_both, timeout=60, what="the deadline-at-risk alert to the LA and ops")
    assert recipients == {"ops@send-mediation.example", "send.team@southend.gov.uk"}
