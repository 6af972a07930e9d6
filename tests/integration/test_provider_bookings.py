"""The provider's bookings through its signed webhooks, against PostgreSQL: R9-R14 and R23 refuse a booking
whole and name the field; reschedules, cancellations and no-shows carry their reasons; day 30 is watched (R10)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from support import OPS, PORTAL, serve

from scheduling.main import create_app
from scheduling.mediator.models import Mediator
from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import Meeting, MeetingStatus, Referral
from scheduling.outbound import service as outbound_service
from scheduling.outbound.models import WebhookMessage
from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET, SchedulingSettings
from shared import clock, webhooks
from shared.calendar import DEFAULT_CALENDAR
from shared.events.cases import ReferralSubmittedV1
from shared.events.meetings import TIMELINE_TOPIC
from shared.outage import sqlstate
from shared.outbox import OutboxEvent

#: The outbox rows but intake's copies of the meeting steps (scheduling.timeline).
NOT_TIMELINE = OutboxEvent.topic != TIMELINE_TOPIC

LONDON = ZoneInfo("Europe/London")
TODAY = clock.today()
ids = count()
OTHER_PROVIDER_SECRET = webhooks.generate_secret()


@pytest.fixture
async def scheduling(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                        kafka_namespace=namespace, environment="test",
                                        other_provider_webhook_secrets={"other-provider": [OTHER_PROVIDER_SECRET]}))
    async with serve(app) as client:
        yield client


def on(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def working_days_ahead(n: int) -> date:
    return DEFAULT_CALENDAR.add_working_days(TODAY, n)


def submitted(**overrides: Any) -> ReferralSubmittedV1:
    fields: dict[str, Any] = {
        "case_id": f"case-{next(ids):04d}", "reference": "SEND-TEST0001", "la_code": "E06000033",
        "mediate_by": TODAY + timedelta(days=30)}
    return ReferralSubmittedV1(**{**fields, **overrides})


async def refer(client: httpx.AsyncClient, *, mediate_by: date | None = None, health_issues: bool = False) -> Meeting:
    case = submitted(mediate_by=mediate_by or TODAY + timedelta(days=30), health_issues=health_issues)
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meeting = await meeting_service.book_for_case(session, case, today=TODAY, timezone="Europe/London")
        await session.commit()
    assert meeting is not None
    return meeting


ATTENDEES = [{"role": "parent", "name": "Alex Example"}, {"role": "supporter", "name": "Jo Friend"},
             {"role": "la_decision_maker", "name": "Pat Officer", "has_authority": True}]


def booking(case_id: str, starts_at: datetime, **overrides: Any) -> dict[str, Any]:
    data = {"case_id": case_id, "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            "venue": {"kind": "in_person", "address": "Civic Centre, Victoria Avenue, Southend-on-Sea"},
            "attendees": ATTENDEES, "child_views": {"status": "recorded", "method": "in_writing"}}
    return {"type": "meeting.booked", "data": {**data, **overrides}}


async def send(client: httpx.AsyncClient, payload: dict[str, Any], msg_id: str | None = None,
               secret: str = DEVELOPMENT_PROVIDER_SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = webhooks.sign(secret, msg_id=msg_id or f"msg_{next(ids)}", body=body)
    return await client.post("/v1/webhooks/provider", content=body,
                             headers={**headers, "content-type": "application/json"})


async def events(client: httpx.AsyncClient) -> list[str]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return [row.type for row in (await session.exec(select(OutboxEvent).where(NOT_TIMELINE).order_by(OutboxEvent.id))).all()]


async def envelopes(client: httpx.AsyncClient, type: str) -> list[dict[str, Any]]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxEvent).where(OutboxEvent.type == type).order_by(OutboxEvent.id))).all()
        return [json.loads(row.envelope)["data"] for row in rows]


async def stored(client: httpx.AsyncClient, meeting_id: str) -> Meeting:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


async def test_the_providers_booking_sets_the_place_attendees_and_childs_views_and_a_repeat_moves_nothing(
        scheduling):
    meeting = await refer(scheduling)

    response = await send(scheduling, booking(meeting.case_id, meeting.starts_at))
    repeat = await send(scheduling, booking(meeting.case_id, meeting.starts_at))

    assert response.status_code == repeat.status_code == 200, response.text
    confirmed = await stored(scheduling, meeting.id)
    assert (confirmed.booked_by, confirmed.sequence, confirmed.venue) == (
        "provider", 1, "Civic Centre, Victoria Avenue, Southend-on-Sea")
    assert [a["role"] for a in confirmed.attendees] == ["parent", "supporter", "la_decision_maker"]
    assert confirmed.child_views == {"status": "recorded", "method": "in_writing"}
    assert await events(scheduling) == ["meeting.scheduled.v1", "meeting.rescheduled.v1"]  # the place, once


async def test_a_booking_at_another_time_moves_the_meeting_under_the_next_sequence(scheduling):
    meeting = await refer(scheduling)
    new_day = working_days_ahead(8)

    response = await send(scheduling, booking(meeting.case_id, on(new_day, 14),
                                              venue={"kind": "remote", "url": "https://meet.example.org/abc"}))

    assert response.status_code == 200, response.text
    [moved] = await envelopes(scheduling, "meeting.rescheduled.v1")
    assert (moved["sequence"], moved["reason"], moved["location"]) == (
        1, "booked_by_provider", "Video call: https://meet.example.org/abc")
    assert datetime.fromisoformat(moved["starts_at"]) == on(new_day, 14)


async def test_r11_a_booking_with_short_notice_is_refused_whole_and_its_webhook_id_not_burnt(scheduling):
    meeting = await refer(scheduling)
    soon = on(working_days_ahead(2))

    refused = await send(scheduling, booking(meeting.case_id, soon), msg_id="msg_short")

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["body.data.starts_at"]
    assert "R11" in refused.json()["errors"][0]["reason"]
    unchanged = await stored(scheduling, meeting.id)
    assert (unchanged.starts_at, unchanged.booked_by, unchanged.attendees) == (meeting.starts_at, "system", [])
    assert await events(scheduling) == ["meeting.scheduled.v1"]

    consent = {"given_on": TODAY.isoformat(), "given_by": "parent"}
    accepted = await send(scheduling, booking(meeting.case_id, soon, short_notice_consent=consent), msg_id="msg_short")

    assert accepted.status_code == 200 and accepted.json()["status"] == "applied"
    assert (await stored(scheduling, meeting.id)).short_notice_consent_on == TODAY


async def test_r13_a_booking_naming_a_mediator_employed_by_an_icb_is_refused(scheduling):
    meeting = await refer(scheduling)

    response = await send(scheduling, booking(meeting.case_id, meeting.starts_at, mediator_id="med-0005"))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body.data.mediator_id" and "R13" in error["reason"]
    assert (await stored(scheduling, meeting.id)).mediator_id == meeting.mediator_id


async def test_r12_r14_a_booking_without_a_decision_maker_or_with_an_unconsented_child_names_each_problem(scheduling):
    meeting = await refer(scheduling, health_issues=True)
    attendees = [{"role": "parent", "name": "Alex Example"}, {"role": "child", "name": "Sam Example"},
                 {"role": "la_decision_maker", "name": "Pat Officer", "has_authority": False}]

    response = await send(scheduling, booking(meeting.case_id, meeting.starts_at, attendees=attendees,
                                              child_views=None))

    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["body.data.attendees.1.consent", "body.data.attendees", "body.data.attendees",
                      "body.data.child_views"]


async def test_r9_r10_a_booking_after_the_30_day_date_tells_the_adviser_once(scheduling):
    meeting = await refer(scheduling, mediate_by=working_days_ahead(7))

    first = await send(scheduling, booking(meeting.case_id, on(working_days_ahead(9))))
    second = await send(scheduling, booking(meeting.case_id, on(working_days_ahead(10))))

    assert first.status_code == second.status_code == 200
    assert (await stored(scheduling, meeting.id)).late
    [missed] = await envelopes(scheduling, "meeting.deadline_missed.v1")
    assert missed["adviser_told_on"] == TODAY.isoformat()


async def test_a_cancelled_meeting_keeps_its_reason_and_the_provider_can_book_the_case_again(scheduling):
    meeting = await refer(scheduling)

    cancelled = await send(scheduling, {"type": "meeting.cancelled",
                                        "data": {"meeting_id": meeting.id, "reason": "mediator_unavailable"}})
    rebooked = await send(scheduling, booking(meeting.case_id, on(working_days_ahead(9)), mediator_id="med-0002"))

    assert cancelled.status_code == rebooked.status_code == 200
    assert await events(scheduling) == ["meeting.scheduled.v1", "meeting.cancelled.v1", "meeting.scheduled.v1"]
    [_, again] = await envelopes(scheduling, "meeting.scheduled.v1")
    assert again["mediator_id"] == "med-0002" and again["meeting_id"] != meeting.id
    assert rebooked.json()["meeting_id"] == again["meeting_id"]  # the provider learns the new meeting's id
    assert (await envelopes(scheduling, "meeting.cancelled.v1"))[0]["reason"] == "mediator_unavailable"


async def test_a_booking_with_another_mediator_withdraws_the_old_booking_and_makes_a_new_one(scheduling):
    meeting = await refer(scheduling)
    other = "med-0003" if meeting.mediator_id != "med-0003" else "med-0002"

    response = await send(scheduling, booking(meeting.case_id, meeting.starts_at, mediator_id=other))

    assert response.status_code == 200, response.text
    assert await events(scheduling) == ["meeting.scheduled.v1", "meeting.cancelled.v1", "meeting.scheduled.v1"]
    [cancelled] = await envelopes(scheduling, "meeting.cancelled.v1")
    assert (cancelled["meeting_id"], cancelled["reason"]) == (meeting.id, "mediator_changed")
    new_id = response.json()["meeting_id"]
    assert new_id != meeting.id and (await stored(scheduling, new_id)).mediator_id == other


async def test_a_reschedule_and_its_reason_are_kept_in_the_meetings_history(scheduling):
    meeting = await refer(scheduling)
    new_day = working_days_ahead(9)

    response = await send(scheduling, {"type": "meeting.rescheduled", "data": {
        "meeting_id": meeting.id, "starts_at": on(new_day).isoformat(), "ends_at": on(new_day, 12).isoformat(),
        "reason": "requested_by_parent"}})

    assert response.status_code == 200, response.text
    history = await scheduling.get(f"/v1/meetings/{meeting.id}", headers=OPS)
    assert [(c["change"], c["reason"], c["sequence"]) for c in history.json()["changes"]] == [
        ("booked", "referral", 0), ("rescheduled", "requested_by_parent", 1)]


async def test_a_no_show_is_recorded_with_the_absent_party_but_only_once_the_meeting_was_due(scheduling):
    meeting = await refer(scheduling)
    no_show = {"type": "meeting.no_show",
               "data": {"meeting_id": meeting.id, "absent_party": "local_authority", "reason": "did_not_attend"}}

    too_early = await send(scheduling, no_show)
    async with scheduling.app.state.runtime.sessionmaker() as session:  # the meeting's day comes
        due = await session.get(Meeting, meeting.id)
        due.starts_at = on(TODAY, 0)
        session.add(due)
        await session.commit()
    recorded = await send(scheduling, no_show)

    assert too_early.status_code == 422
    assert recorded.status_code == 200
    missed = await stored(scheduling, meeting.id)
    assert (missed.status, missed.absent_party, missed.cancelled_reason) == (
        MeetingStatus.no_show, "local_authority", "did_not_attend")
    [event] = await envelopes(scheduling, "meeting.no_show.v1")
    assert event["absent_party"] == "local_authority"


async def test_a_change_to_a_cancelled_meeting_is_refused_with_409(scheduling):
    meeting = await refer(scheduling)
    cancel = {"type": "meeting.cancelled", "data": {"meeting_id": meeting.id, "reason": "parent_unwell"}}
    await send(scheduling, cancel)

    again = await send(scheduling, cancel)

    assert again.status_code == 409 and again.json()["code"] == "meeting_not_scheduled"


async def test_r10_day_30_without_a_meeting_held_raises_one_breach_to_the_la_and_ops_and_tells_the_adviser(
        scheduling):
    mediate_by = working_days_ahead(7)
    meeting = await refer(scheduling, mediate_by=mediate_by)
    await send(scheduling, {"type": "meeting.cancelled", "data": {"meeting_id": meeting.id, "reason": "venue_closed"}})

    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        before = await meeting_service.raise_deadline_breaches(session, today=mediate_by - timedelta(days=1),
                                                               timezone="Europe/London")
        on_day_30 = await meeting_service.raise_deadline_breaches(session, today=mediate_by, timezone="Europe/London")
        after = await meeting_service.raise_deadline_breaches(session, today=mediate_by + timedelta(days=1),
                                                              timezone="Europe/London")
        await session.commit()

    assert (before, on_day_30, after) == (0, 1, 0)
    [breach] = await envelopes(scheduling, "meeting.deadline_breached.v1")
    assert (breach["la_code"], breach["meeting_status"], breach["mediate_by"]) == (
        "E06000033", "cancelled", mediate_by.isoformat())
    [missed] = await envelopes(scheduling, "meeting.deadline_missed.v1")
    assert missed["adviser_told_on"] == mediate_by.isoformat()


async def test_r10_a_withdrawn_case_is_not_watched(scheduling):
    mediate_by = working_days_ahead(7)
    meeting = await refer(scheduling, mediate_by=mediate_by)
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await meeting_service.cancel_for_case(session, meeting.case_id, reason="case_withdrawn")
        raised = await meeting_service.raise_deadline_breaches(session, today=mediate_by, timezone="Europe/London")
        await session.commit()
        referral = await session.get(Referral, meeting.case_id)

    assert raised == 0 and referral.closed_reason == "case_withdrawn"


async def test_a_council_portal_reads_its_own_meetings_with_why_the_mediator_was_chosen(scheduling):
    meeting = await refer(scheduling)

    response = await scheduling.get(f"/v1/cases/{meeting.case_id}/meetings", headers=PORTAL)
    other = await scheduling.get(f"/v1/meetings/{meeting.id}",
                                 headers={"Authorization": "Bearer dev-only-ops"})

    assert response.status_code == 200 and other.status_code == 200
    [read] = response.json()["items"]
    assert read["assignment"]["chosen"] == meeting.mediator_id
    assert read["changes"][0]["change"] == "booked"


async def test_the_provider_webhook_catalogue_is_in_the_openapi_document_with_an_example_per_type(scheduling):
    document = (await scheduling.get("/openapi.json")).json()

    body = document["paths"]["/v1/webhooks/provider"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"meeting.booked", "meeting.rescheduled", "meeting.cancelled",
                                     "meeting.no_show", "meeting.outcome_reported", "mediator.updated",
                                     "mediator.availability_updated"}
    assert "ProviderWebhook" in document["components"]["schemas"]
    assert "BookingData" in document["components"]["schemas"]


async def test_r21_the_providers_booking_of_a_disagreement_resolution_awaiting_consent_names_the_missing_party(
        scheduling):
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await meeting_service.note_disagreement_resolution(
            session, case_id="case-dr-waiting", reference="SEND-DR000002", la_code="E06000033", dr_type=1,
            missing=["local_authority"], today=TODAY, timezone="Europe/London")
        await session.commit()

    response = await send(scheduling, booking("case-dr-waiting", on(working_days_ahead(8))))

    assert response.status_code == 409 and response.json()["code"] == "consent_missing"
    assert response.json()["errors"] == [
        {"field": "parties", "reason": "no recorded consent from the local_authority (R21)"}]
    assert await events(scheduling) == []


# Assignment (R13, conflicts, needs) and the provider's own mediators.


async def test_r13_the_assignment_meets_the_cases_language_and_explains_who_was_refused_and_why(scheduling):
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meeting = await meeting_service.book_for_case(session, submitted(languages=("bfi",)), today=TODAY,
                                                      timezone="Europe/London")
        await session.commit()

    assert meeting is not None and meeting.mediator_id == "med-0002"  # the one who mediates in BSL
    reasons = {c["mediator_id"]: c["reasons"] for c in meeting.assignment["considered"] if not c["eligible"]}
    assert reasons["med-0001"] == ["does not mediate in bfi"]
    assert any(r.startswith("not independent (R13)") for r in reasons["med-0005"])
    assert "Alex" not in json.dumps(meeting.assignment)  # ids and reasons only


async def test_when_no_mediator_fits_the_case_is_still_referred_to_the_provider_and_day_30_watched(scheduling):
    case = submitted(languages=("cy",))  # nobody in the pool mediates in Welsh
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await outbound_service.create_endpoint(session, provider_id="kids-send-mediation",
                                               url="http://127.0.0.1:9/never-called")
        meeting = await meeting_service.book_for_case(session, case, today=TODAY, timezone="Europe/London")
        await session.commit()
        [message] = (await session.exec(select(WebhookMessage))).all()
        referral = await session.get(Referral, case.case_id)

    assert meeting is None and referral is not None
    assert message.payload["data"]["meeting_id"] is None
    assert any("does not mediate in cy" in c["reasons"] for c in message.payload["data"]["unassigned"])
    assert await events(scheduling) == []


async def test_the_provider_keeps_its_mediators_and_their_availability_by_webhook(scheduling):
    mediator = {"id": "med-0100", "name": "Rowan Tide", "email": "rowan@kids.example", "employer_kind": "independent",
                "employer_name": "KIDS", "capacity_per_week": 2, "languages": ["en", "cy"],
                "accessibility_skills": ["hearing_loop"], "areas": ["E06000033"], "conflicts": []}
    availability = {"mediator_id": "med-0100", "windows": [
        {"rrule": "FREQ=WEEKLY;BYDAY=TU,TH", "start_time": "09:00", "end_time": "15:00"}],
        "exceptions": [{"starts_on": working_days_ahead(10).isoformat(), "ends_on": working_days_ahead(12).isoformat(),
                        "reason": "leave"}]}

    created = await send(scheduling, {"type": "mediator.updated", "data": mediator})
    windows = await send(scheduling, {"type": "mediator.availability_updated", "data": availability})

    assert created.status_code == windows.status_code == 200, created.text + windows.text
    detail = (await scheduling.get("/v1/admin/mediators/med-0100", headers=OPS)).json()
    assert (detail["provider_id"], detail["languages"]) == ("kids-send-mediation", ["en", "cy"])
    assert [w["rrule"] for w in detail["windows"]] == ["FREQ=WEEKLY;BYDAY=TU,TH"]
    assert [e["reason"] for e in detail["exceptions"]] == ["leave"]
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        welsh = await meeting_service.book_for_case(session, submitted(languages=("cy",)), today=TODAY,
                                                    timezone="Europe/London")
        await session.commit()
    assert welsh is not None and welsh.mediator_id == "med-0100"
    assert welsh.starts_at.astimezone(LONDON).weekday() in (1, 3)  # a Tuesday or Thursday window


async def test_a_provider_can_neither_change_another_providers_meeting_nor_book_its_case(scheduling):
    meeting = await refer(scheduling)

    cancel = await send(scheduling, {"type": "meeting.cancelled", "data": {"meeting_id": meeting.id, "reason": "x"}},
                        secret=OTHER_PROVIDER_SECRET)
    book = await send(scheduling, booking(meeting.case_id, meeting.starts_at), secret=OTHER_PROVIDER_SECRET)

    assert cancel.status_code == book.status_code == 404
    assert (await stored(scheduling, meeting.id)).status is MeetingStatus.scheduled


# No mediator is ever double-booked: not by the assignment, the provider's booking or a reschedule, nor by two
# replicas booking at once (PostgreSQL's exclusion constraint decides the race).


async def overlapping_pairs(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        meetings = (await session.exec(select(Meeting).where(Meeting.status == MeetingStatus.scheduled))).all()
    return [(a.id, b.id) for a in meetings for b in meetings
            if a.id < b.id and a.mediator_id == b.mediator_id and a.starts_at < b.ends_at and b.starts_at < a.ends_at]


async def test_a_providers_booking_that_would_double_book_the_mediator_is_refused_with_409_naming_the_field(
        scheduling):
    first = await refer(scheduling)
    second = await refer(scheduling)

    response = await send(scheduling, booking(second.case_id, first.starts_at, mediator_id=first.mediator_id))

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "mediator_already_booked"
    assert [error["field"] for error in problem["errors"]] == ["body.data.starts_at"]
    assert (await stored(scheduling, second.id)).starts_at == second.starts_at
    assert await overlapping_pairs(scheduling) == []


async def test_a_reschedule_onto_another_meeting_of_the_same_mediator_is_refused_with_409(scheduling):
    first = await refer(scheduling)
    second = await refer(scheduling)
    later = working_days_ahead(12)
    moved = await send(scheduling, booking(second.case_id, on(later), mediator_id=first.mediator_id))
    assert moved.status_code == 200, moved.text
    second_id = moved.json()["meeting_id"]

    response = await send(scheduling, {"type": "meeting.rescheduled", "data": {
        "meeting_id": second_id, "starts_at": (first.starts_at + timedelta(minutes=30)).isoformat(),
        "ends_at": (first.starts_at + timedelta(hours=2, minutes=30)).isoformat(), "reason": "requested_by_parent"}})

    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["field"] == "body.data.starts_at"
    assert await overlapping_pairs(scheduling) == []


async def test_the_database_refuses_a_second_scheduled_meeting_of_a_mediator_at_an_overlapping_time(scheduling):
    first = await refer(scheduling)
    case = submitted()
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        session.add(Meeting(case_id=case.case_id, la_code="E06000033", mediator_id=first.mediator_id,
                            assignment_reason="test", arranging_body="local_authority", notice_given_on=TODAY,
                            starts_at=first.starts_at + timedelta(hours=1), ends_at=first.ends_at + timedelta(hours=1),
                            location="Video call"))
        with pytest.raises(IntegrityError) as refused:
            await session.commit()
    assert sqlstate(refused.value) == meeting_service.EXCLUSION_VIOLATION


async def test_a_new_booking_the_database_refuses_leaves_the_transaction_going_and_the_mediator_unstamped(scheduling):
    """What an assignment sees when another replica booked its slot after it read the diaries: the insert is
    refused (its one statement, no savepoint), the mediator's row is not touched, and the next slot is booked
    in the same transaction."""
    first = await refer(scheduling)
    case = submitted()
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        mediator = await session.get(Mediator, first.mediator_id)
        assert mediator is not None
        stamped = mediator.last_booked_at

        def meeting(hours_later: int) -> Meeting:
            return Meeting(case_id=case.case_id, la_code="E06000033", mediator_id=mediator.id,
                           assignment_reason="test", arranging_body="local_authority", notice_given_on=TODAY,
                           starts_at=first.starts_at + timedelta(hours=hours_later),
                           ends_at=first.ends_at + timedelta(hours=hours_later), location="Video call")

        refused = meeting(1)  # overlaps the first booking
        assert not await meeting_service._save_booking(session, refused, mediator)
        assert mediator.last_booked_at == stamped and refused not in session
        written = meeting(24)
        assert await meeting_service._save_booking(session, written, mediator)
        assert written in session and not session.dirty and mediator.last_booked_at != stamped
        await session.commit()
    async with scheduling.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        kept = await session.get(Mediator, first.mediator_id)
        assert kept is not None and kept.last_booked_at == mediator.last_booked_at
        meetings = (await session.exec(select(Meeting).where(Meeting.case_id == case.case_id))).all()
        assert [m.starts_at for m in meetings] == [first.starts_at + timedelta(hours=24)]
    assert await overlapping_pairs(scheduling) == []


async def test_two_replicas_assigning_at_once_never_double_book_a_mediator(database_url, kafka_bootstrap, namespace):
    settings = SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                  kafka_namespace=namespace, environment="test")
    async with serve(create_app(settings)) as one, serve(create_app(settings)) as two:
        async def book_on(client: httpx.AsyncClient) -> Meeting | None:
            async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
                meeting = await meeting_service.book_for_case(session, submitted(), today=TODAY,
                                                              timezone="Europe/London")
                await session.commit()
                return meeting

        booked = await asyncio.gather(*(book_on(client) for _ in range(6) for client in (one, two)))

        assert all(meeting is not None for meeting in booked)
        assert await overlapping_pairs(one) == []


async def test_a_providers_booking_racing_an_assignment_on_another_replica_never_double_books(
        database_url, kafka_bootstrap, namespace):
    settings = SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                  kafka_namespace=namespace, environment="test")
    async with serve(create_app(settings)) as one, serve(create_app(settings)) as two:
        first = await refer(one)
        second = await refer(one)  # the provider moves this one onto the slot the next assignment will want

        async def assign_next() -> Meeting | None:
            async with two.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
                meeting = await meeting_service.book_for_case(session, submitted(), today=TODAY,
                                                              timezone="Europe/London")
                await session.commit()
                return meeting

        webhook, assigned = await asyncio.gather(
            send(one, booking(second.case_id, first.ends_at, mediator_id=first.mediator_id)), assign_next())

        assert webhook.status_code in (200, 409), webhook.text
        assert assigned is not None
        assert await overlapping_pairs(one) == []


@pytest.mark.parametrize(("starts_at", "ends_at"), [
    ("9999-12-31T10:00:00+00:00", "9999-12-31T12:00:00+00:00"),
    ("9999-12-31T23:00:00-23:59", "9999-12-31T23:30:00-23:59"),  # past the last instant Python can hold in UTC
    ("0001-01-01T00:00:00+23:59", "0001-01-01T01:00:00+23:59"),
    ("2030-01-01T10:00:00", "2030-01-01T12:00:00"),  # no offset
])
async def test_a_reschedule_to_an_absurd_instant_is_refused_and_scheduling_goes_on(scheduling, starts_at, ends_at):
    meeting = await refer(scheduling)

    refused = await send(scheduling, {"type": "meeting.rescheduled", "data": {
        "meeting_id": meeting.id, "starts_at": starts_at, "ends_at": ends_at, "reason": "requested_by_parent"}},
        msg_id=f"msg_absurd_{next(ids)}")
    new_day = working_days_ahead(9)
    moved = await send(scheduling, {"type": "meeting.rescheduled", "data": {
        "meeting_id": meeting.id, "starts_at": on(new_day).isoformat(), "ends_at": on(new_day, 12).isoformat(),
        "reason": "requested_by_parent"}})

    assert refused.status_code == 422, refused.text
    assert "body.data.starts_at" in [error["field"] for error in refused.json()["errors"]]
    assert moved.status_code == 200, moved.text
    assert (await stored(scheduling, meeting.id)).starts_at == on(new_day)
    assert await events(scheduling) == ["meeting.scheduled.v1", "meeting.rescheduled.v1"]
