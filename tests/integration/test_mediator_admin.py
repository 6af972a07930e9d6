"""The mediator admin API and the assignment against PostgreSQL: upsert, availability, exceptions, 422 and 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from support import NOVEMBER_2026, OPS, serve

from scheduling.main import create_app
from scheduling.mediator import rules as mediator_rules
from scheduling.mediator import service as mediator_service
from scheduling.mediator.models import MediatorUnavailability
from scheduling.mediator.rules import Needs
from scheduling.meeting.models import Meeting
from scheduling.settings import SchedulingSettings

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

PORTAL = {"Authorization": "Bearer dev-only-southend-portal"}
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def scheduling(database_url: str, kafka_bootstrap: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                        kafka_namespace=namespace, environment="test", seed_mediators=False))
    async with serve(app) as client:
        yield client


def mediator_body(id: str = "med-0100", **overrides: object) -> dict:
    body = {"id": id, "provider_id": "kids-send-mediation", "name": "Alex Mediator", "email": "alex@kids.example",
            "employer_kind": "independent", "employer_name": "KIDS", "capacity_per_week": 4,
            "languages": ["en", "pl"], "accessibility_skills": ["hearing_loop"], "areas": ["E06000033"],
            "conflicts": ["115024"]}
    body.update(overrides)
    return body


WEEKDAYS = {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "09:30", "end_time": "16:30"}


async def put_mediator(client: httpx.AsyncClient, id: str = "med-0100", **overrides: object) -> httpx.Response:
    return await client.put(f"/v1/admin/mediators/{id}", headers=OPS, json=mediator_body(id, **overrides))


async def test_a_mediator_is_created_then_updated_and_listed_by_provider_and_active(scheduling):
    created = await put_mediator(scheduling)
    updated = await put_mediator(scheduling, capacity_per_week=2, active=False)
    await put_mediator(scheduling, "med-0200", provider_id="other-provider")

    listed = await scheduling.get("/v1/admin/mediators", headers=OPS,
                                  params={"provider_id": "kids-send-mediation", "active": "false"})

    assert created.status_code == 200 and created.json()["windows"] == []
    assert updated.json()["capacity_per_week"] == 2
    [item] = listed.json()["items"]
    assert item["id"] == "med-0100" and item["languages"] == ["en", "pl"] and item["independent"] is True


async def test_r13_an_icb_employee_is_kept_but_shown_as_not_independent(scheduling):
    response = await put_mediator(scheduling, employer_kind="icb", employer_name="NHS Mid and South Essex ICB")

    assert response.status_code == 200 and response.json()["independent"] is False


async def test_availability_is_replaced_and_exceptions_added_and_removed(scheduling):
    await put_mediator(scheduling)

    replaced = await scheduling.put("/v1/admin/mediators/med-0100/availability", headers=OPS, json={
        "mediator_id": "med-0100", "windows": [WEEKDAYS],
        "exceptions": [{"starts_on": "2026-12-21", "ends_on": "2026-12-24", "reason": "leave"}]})
    again = await scheduling.put("/v1/admin/mediators/med-0100/availability", headers=OPS, json={
        "mediator_id": "med-0100", "windows": [{**WEEKDAYS, "rrule": "FREQ=WEEKLY;BYDAY=TU"}]})
    added = await scheduling.post("/v1/admin/mediators/med-0100/exceptions", headers=OPS,
                                  json={"starts_on": "2027-01-04", "ends_on": "2027-01-04", "reason": "training"})
    detail = (await scheduling.get("/v1/admin/mediators/med-0100", headers=OPS)).json()
    removed = await scheduling.delete(f"/v1/admin/mediators/med-0100/exceptions/{added.json()['id']}", headers=OPS)
    after = (await scheduling.get("/v1/admin/mediators/med-0100", headers=OPS)).json()

    assert replaced.status_code == 200 and replaced.json()["windows"][0]["start_time"] == "09:30:00"
    assert [w["rrule"] for w in again.json()["windows"]] == ["FREQ=WEEKLY;BYDAY=TU"]
    assert added.status_code == 201
    assert [e["reason"] for e in detail["exceptions"]] == ["leave", "training"]  # kept when exceptions is omitted
    assert removed.status_code == 204
    assert [e["reason"] for e in after["exceptions"]] == ["leave"]


@pytest.mark.parametrize(("body", "field"), [
    (mediator_body(employer_kind="council"), "body.employer_kind"),
    (mediator_body(capacity_per_week=-1), "body.capacity_per_week"),
    (mediator_body(languages=["not a tag"]), "body.languages.0"),
    (mediator_body(areas=["Southend"]), "body.areas.0"),
    (mediator_body(email="not-an-email"), "body.email"),
    (mediator_body(unexpected=True), "body.unexpected"),
    (mediator_body("med-0999"), "body.id"),
])
async def test_a_bad_mediator_gives_422_naming_the_field(scheduling, body, field):
    response = await scheduling.put("/v1/admin/mediators/med-0100", headers=OPS, json=body)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("window", "field"), [
    ({**WEEKDAYS, "rrule": "FREQ=HOURLY"}, "body.windows.0.rrule"),
    ({**WEEKDAYS, "end_time": "09:00"}, "body.windows.0.end_time"),
    ({**WEEKDAYS, "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"}, "body.windows.0.valid_from"),
])
async def test_a_bad_availability_window_gives_422_naming_the_field(scheduling, window, field):
    await put_mediator(scheduling)

    response = await scheduling.put("/v1/admin/mediators/med-0100/availability", headers=OPS,
                                    json={"mediator_id": "med-0100", "windows": [window]})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_an_exception_ending_before_it_starts_gives_422(scheduling):
    await put_mediator(scheduling)

    response = await scheduling.post("/v1/admin/mediators/med-0100/exceptions", headers=OPS,
                                     json={"starts_on": "2027-01-05", "ends_on": "2027-01-04", "reason": "leave"})

    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.ends_on"


async def test_an_unknown_mediator_or_exception_gives_404(scheduling):
    await put_mediator(scheduling)

    responses = [
        await scheduling.get("/v1/admin/mediators/med-nobody", headers=OPS),
        await scheduling.put("/v1/admin/mediators/med-nobody/availability", headers=OPS,
                             json={"mediator_id": "med-nobody", "windows": [WEEKDAYS]}),
        await scheduling.post("/v1/admin/mediators/med-nobody/exceptions", headers=OPS,
                              json={"starts_on": "2027-01-04", "ends_on": "2027-01-04", "reason": "leave"}),
        await scheduling.delete("/v1/admin/mediators/med-0100/exceptions/unav_nothing", headers=OPS),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]


async def test_a_mediator_of_another_provider_cannot_be_rewritten(scheduling):
    await put_mediator(scheduling)

    response = await put_mediator(scheduling, provider_id="other-provider")

    assert response.status_code == 409 and response.json()["code"] == "mediator_of_another_provider"


async def test_the_admin_api_needs_ops_scopes(scheduling):
    assert (await scheduling.get("/v1/admin/mediators")).status_code == 401
    assert (await scheduling.get("/v1/admin/mediators", headers=PORTAL)).status_code == 403


async def test_assign_reads_availability_and_booked_meetings_from_the_database(scheduling):
    await put_mediator(scheduling, "med-a", capacity_per_week=1)
    await put_mediator(scheduling, "med-b", employer_kind="local_authority", employer_name="Essex County Council")
    await put_mediator(scheduling, "med-c", capacity_per_week=1)
    for id in ("med-a", "med-b", "med-c"):
        await scheduling.put(f"/v1/admin/mediators/{id}/availability", headers=OPS,
                             json={"mediator_id": id, "windows": [WEEKDAYS]})
    async with scheduling.app.state.runtime.sessionmaker() as session:
        session.add(Meeting(case_id="case-0000", la_code="E06000033", mediator_id="med-a", assignment_reason="test",
                            arranging_body="local_authority", notice_given_on=date(2026, 11, 20),
                            starts_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
                            ends_at=datetime(2026, 11, 30, 12, tzinfo=UTC), location="Video call"))
        await session.commit()

        needs = Needs(provider_id="kids-send-mediation", la_code="E06000033", languages=("pl",),
                      accessibility_needs=("hearing_loop",))
        assignment = await mediator_service.assign(session, needs, earliest=date(2026, 11, 30),
                                                   latest=date(2026, 12, 18), timezone="Europe/London")

    assert assignment.mediator is not None and assignment.mediator.id == "med-c"  # med-a is at capacity that week
    assert assignment.slot is not None and assignment.slot.starts_at == datetime(2026, 11, 30, 10, tzinfo=LONDON)
    assert assignment.explanation["considered"][1] == {
        "mediator_id": "med-b", "eligible": False, "reasons": ["not independent (R13): employed by Essex County Council"]}


async def test_a_booking_reads_the_diaries_of_the_fairest_few_and_the_whole_pool_only_when_none_of_them_is_free(
        scheduling, monkeypatch):
    pool = [f"med-{n:02d}" for n in range(mediator_service.FIRST_DIARIES + 4)]
    for id in pool:
        await put_mediator(scheduling, id, capacity_per_week=5, conflicts=[])
        await scheduling.put(f"/v1/admin/mediators/{id}/availability", headers=OPS,
                             json={"mediator_id": id, "windows": [WEEKDAYS]})
    read: list[tuple[int, bool]] = []
    diaries = mediator_service._diaries

    async def counted(session, provider_id, ids, **kwargs):
        read.append((len(ids), kwargs.get("only_these", False)))
        return await diaries(session, provider_id, ids, **kwargs)

    monkeypatch.setattr(mediator_service, "_diaries", counted)
    needs = Needs(provider_id="kids-send-mediation", la_code="E06000033")
    earliest, latest = date(2026, 11, 30), date(2026, 12, 18)

    async def booked_and_searched_whole() -> tuple[mediator_rules.Assignment, mediator_rules.Assignment]:
        async with scheduling.app.state.runtime.sessionmaker() as session:
            assignment = await mediator_service.assign(session, needs, earliest=earliest, latest=latest,
                                                       timezone="Europe/London")
            candidates = await mediator_service.list_mediators(session, provider_id=needs.provider_id)
            whole = await diaries(session, needs.provider_id, pool, earliest=earliest,
                                  last=earliest + timedelta(days=mediator_rules.HORIZON_DAYS), tz=LONDON)
        return assignment, mediator_rules.assign(candidates, needs, earliest=earliest, latest=latest, diaries=whole)

    first, first_whole = await booked_and_searched_whole()
    read_first, read[:] = list(read), []
    async with scheduling.app.state.runtime.sessionmaker() as session:  # the fairest nine are away until after latest
        session.add_all([MediatorUnavailability(mediator_id=id, starts_on=earliest, ends_on=latest, reason="leave")
                         for id in pool[:mediator_service.FIRST_DIARIES + 1]])
        await session.commit()
    fallback, fallback_whole = await booked_and_searched_whole()

    assert first.mediator is not None and first.mediator.id == "med-00"
    assert read_first == [(mediator_service.FIRST_DIARIES, True)]
    assert first.explanation == first_whole.explanation
    assert fallback.mediator is not None and fallback.mediator.id == pool[mediator_service.FIRST_DIARIES + 1]
    assert read == [(mediator_service.FIRST_DIARIES, True), (len(pool), False)]
    assert fallback.explanation == fallback_whole.explanation and not fallback.late


async def test_the_seeded_pool_has_weekday_availability(database_url, kafka_bootstrap, namespace):
    app = create_app(SchedulingSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                        kafka_namespace=namespace, environment="test"))
    async with serve(app) as client:
        detail = (await client.get("/v1/admin/mediators/med-0002", headers=OPS)).json()

    assert detail["languages"] == ["en", "bfi", "pa"] and detail["areas"] == ["E06000033"]
    assert detail["windows"] == [{"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "09:30:00",
                                  "end_time": "16:30:00", "valid_from": None, "valid_until": None}]
