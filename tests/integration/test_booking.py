"""Scheduling's booking against PostgreSQL: R8 arranging body, R10 a 30-day date that cannot be met."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, handle, serve

from scheduling.main import create_app
from scheduling.meeting import service as meeting_service
from scheduling.meeting.handlers import (
    book_meeting_for_case,
    cancel_meeting_for_declined_mediation,
    move_deadline_for_case,
)
from scheduling.meeting.models import Meeting, MeetingStatus, Referral
from scheduling.settings import SchedulingSettings
from shared.events import Envelope
from shared.events.cases import ReferralDeadlinesChangedV1, ReferralMediationDeclinedV1, ReferralSubmittedV1
from shared.events.meetings import TIMELINE_TOPIC
from shared.outbox import OutboxEvent

#: The outbox rows but intake's copies of the meeting steps (scheduling.timeline).
NOT_TIMELINE = OutboxEvent.topic != TIMELINE_TOPIC

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)


@pytest.fixture
async def scheduling(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                        kafka_namespace=namespace, environment="test"))
    async with serve(app) as client:
        yield client


def submitted(mediate_by: date, **overrides: object) -> ReferralSubmittedV1:
    return ReferralSubmittedV1(case_id="case-0001", reference="SEND-TEST0001", la_code="E06000033",
                               mediate_by=mediate_by, **overrides)


async def book(client: httpx.AsyncClient, case: ReferralSubmittedV1, today: date) -> list[OutboxEvent]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await meeting_service.book_for_case(session, case, today=today, timezone="Europe/London")
        await session.commit()
        return list((await session.exec(select(OutboxEvent).where(NOT_TIMELINE).order_by(OutboxEvent.id))).all())


async def test_r10_a_30_day_date_that_full_notice_cannot_meet_tells_the_adviser_at_once(scheduling):
    events = await book(scheduling, submitted(mediate_by=date(2026, 11, 25)), today=date(2026, 11, 20))

    assert [e.type for e in events] == ["meeting.scheduled.v1", "meeting.deadline_missed.v1"]
    assert '"adviser_told_on":"2026-11-20"' in events[1].envelope
    assert '"earliest_possible_on":"2026-11-30"' in events[1].envelope


async def test_r9_a_date_that_can_be_met_books_without_a_breach(scheduling):
    events = await book(scheduling, submitted(mediate_by=date(2026, 12, 20)), today=date(2026, 11, 20))

    assert [e.type for e in events] == ["meeting.scheduled.v1"]


async def test_r8_a_health_only_mediation_is_booked_for_the_commissioning_body(scheduling):
    events = await book(scheduling, submitted(mediate_by=date(2026, 12, 20), health_issues=True,
                                              arranging_body="health_commissioning_body"), today=date(2026, 11, 20))

    assert '"arranging_body":"health_commissioning_body"' in events[0].envelope


async def test_a_parent_who_declines_and_then_asks_again_gets_a_new_meeting(scheduling):
    case = submitted(mediate_by=date(2026, 12, 20))
    await book(scheduling, case, today=date(2026, 11, 20))
    async with scheduling.app.state.runtime.sessionmaker() as session:
        cancelled = await meeting_service.cancel_for_case(session, case.case_id, reason="mediation_declined")
        await session.commit()

    events = await book(scheduling, case, today=date(2026, 11, 23))
    again = await book(scheduling, case, today=date(2026, 11, 23))  # a redelivery books nothing more

    assert [e.type for e in events] == ["meeting.scheduled.v1", "meeting.cancelled.v1", "meeting.scheduled.v1"]
    assert [e.event_id for e in again] == [e.event_id for e in events]
    assert cancelled is not None and cancelled.id not in events[2].envelope




async def test_r21_disagreement_resolution_is_not_booked_until_every_party_has_consented(scheduling):
    async with scheduling.app.state.runtime.sessionmaker() as session:
        waiting = await meeting_service.note_disagreement_resolution(
            session, case_id="case-dr", reference="SEND-DR000001", la_code="E06000033", dr_type=2,
            missing=["school"], today=date(2026, 11, 20), timezone="Europe/London")
        await session.commit()

    refused = await scheduling.post("/v1/admin/cases/case-dr/disagreement-resolution-meeting", headers=OPS)

    assert waiting is None
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_missing"
    assert [e["reason"] for e in refused.json()["errors"]] == ["no recorded consent from the school (R21)"]

    async with scheduling.app.state.runtime.sessionmaker() as session:
        booked = await meeting_service.note_disagreement_resolution(
            session, case_id="case-dr", reference="SEND-DR000001", la_code="E06000033", dr_type=2,
            missing=[], today=date(2026, 11, 23), timezone="Europe/London")
        await session.commit()
        events = [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE))).all()]

    assert booked is not None and booked.kind == "disagreement_resolution" and booked.mediate_by is None
    assert events == ["meeting.scheduled.v1"]


async def test_r8_a_health_only_mediation_follows_the_moved_notice_date_and_day_30_waits_for_it(scheduling):
    case = submitted(mediate_by=date(2026, 12, 20), health_issues=True,
                     arranging_body="health_commissioning_body")
    await book(scheduling, case, today=date(2026, 11, 20))
    async with scheduling.app.state.runtime.sessionmaker() as session:
        meeting = await meeting_service._active_meeting(session, case.case_id)
        assert meeting is not None
        await meeting_service.provider_cancel(session, meeting.id, reason="mediator_unwell")
        await session.commit()

    await handle(scheduling, ReferralDeadlinesChangedV1(
        case_id=case.case_id, la_code=case.la_code, mediate_by=date(2026, 12, 27), last_bookable_day=date(2026, 12, 24)),
                 move_deadline_for_case, subject=case.case_id)
    async with scheduling.app.state.runtime.sessionmaker() as session:
        on_the_old_day = await meeting_service.raise_deadline_breaches(session, today=date(2026, 12, 21),
                                                                       timezone="Europe/London")
        await session.commit()
        on_the_new_day = await meeting_service.raise_deadline_breaches(session, today=date(2026, 12, 27),
                                                                       timezone="Europe/London")
        await session.commit()
        referral = await session.get(Referral, case.case_id)
        events = [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE).order_by(OutboxEvent.id))).all()]

    assert referral is not None and referral.mediate_by == date(2026, 12, 27)
    assert (on_the_old_day, on_the_new_day) == (0, 1)  # R10 fires on the new day 30, never on the old one
    assert "meeting.deadline_missed.v1" in events[-1:]  # the adviser is told only then


async def test_r8_a_booking_inside_the_window_from_the_notice_is_not_late(scheduling):
    case = submitted(mediate_by=date(2026, 11, 25), health_issues=True,
                     arranging_body="health_commissioning_body")
    async with scheduling.app.state.runtime.sessionmaker() as session:
        await meeting_service.book_for_case(session, case, today=date(2026, 11, 20), timezone="Europe/London")
        await session.flush()
        await meeting_service.move_deadline(session, case.case_id, mediate_by=date(2026, 12, 27),
                                            today=date(2026, 11, 20), timezone="Europe/London")
        await session.commit()
        meeting = await meeting_service._active_meeting(session, case.case_id)

    assert meeting is not None and meeting.mediate_by == date(2026, 12, 27)
    assert meeting.late is False


async def test_capacity_counts_what_the_pool_can_still_take_by_the_30_day_date_and_nothing_when_it_has_passed(
        scheduling):
    await book(scheduling, submitted(mediate_by=date(2026, 12, 20)), today=date(2026, 11, 20))
    await book(scheduling, submitted(mediate_by=date(2026, 11, 25)).model_copy(update={"case_id": "case-0002"}),
               today=date(2026, 11, 20))

    room = (await scheduling.get("/v1/cases/case-0001/capacity", headers=OPS)).raise_for_status().json()
    none = (await scheduling.get("/v1/cases/case-0002/capacity", headers=OPS)).raise_for_status().json()
    missing = await scheduling.get("/v1/cases/case-9999/capacity", headers=OPS)

    assert room["latest"] == "2026-12-20" and room["eligible_mediators"] >= 1
    assert room["bookable_meetings"] == sum(room["by_mediator"].values()) > 0
    assert none["bookable_meetings"] == 0  # the 30-day date falls before the first day with full notice (R10)
    assert missing.status_code == 404


async def test_intakes_copy_of_the_booking_carries_no_contact_details_of_the_mediator(scheduling):
    await book(scheduling, submitted(mediate_by=date(2026, 12, 20)), today=date(2026, 11, 20))
    async with scheduling.app.state.runtime.sessionmaker() as session:
        rows = (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()

    assert [(row.topic, row.type) for row in rows] == [("scheduling.meetings", "meeting.scheduled.v1"),
                                                       ("scheduling.timeline", "timeline.meeting_scheduled.v1")]
    assert all(row.subject == "case-0001" for row in rows)  # keyed by case, so in the case's order on each topic
    assert "mediator_email" in rows[0].envelope and "@" in rows[0].envelope
    assert "mediator_email" not in rows[1].envelope and "@" not in rows[1].envelope


async def test_cases_booked_in_one_transaction_as_the_consumer_handles_a_burst_never_share_a_mediators_time(
        scheduling):
    """The consumer handles a partition's records that arrive together in one transaction: each booking there
    sees the ones before it, and a case's later event (a decline) finds the meeting booked just before it."""
    cases = [ReferralSubmittedV1(case_id=f"case-burst-{n}", reference=f"SEND-BURST{n:03d}", la_code="E06000033",
                                 mediate_by=date(2026, 12, 20)) for n in range(8)]
    declined = ReferralMediationDeclinedV1(case_id=cases[0].case_id, la_code="E06000033")
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for case in cases:
            await book_meeting_for_case(Envelope.wrap(case, source="/test", subject=case.case_id), session)
        await cancel_meeting_for_declined_mediation(
            Envelope.wrap(declined, source="/test", subject=declined.case_id), session)
        await session.commit()
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meetings = list((await session.exec(select(Meeting))).all())

    status = {meeting.case_id: meeting.status for meeting in meetings}
    assert status == {case.case_id: MeetingStatus.scheduled for case in cases[1:]} | {
        cases[0].case_id: MeetingStatus.cancelled}
    booked = [meeting for meeting in meetings if meeting.status == MeetingStatus.scheduled]
    for one, other in itertools.combinations(booked, 2):
        if one.mediator_id == other.mediator_id:
            assert one.ends_at <= other.starts_at or other.ends_at <= one.starts_at
