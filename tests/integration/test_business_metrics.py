"""The statutory dashboard's gauges are counted from each service's database (PostgreSQL), so they are right after
a restart and carry only bounded labels (LA code, kind, stage), never a case id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel.ext.asyncio.session import AsyncSession
from support import NOVEMBER_2026, PORTAL, case_payload, serve

from certificates import metrics as certificate_metrics
from certificates.certificate.models import CaseRecord, Certificate, CertificateKind, CertificateStatus
from intake.main import create_app
from intake.metrics import CASES_OPEN
from intake.settings import IntakeSettings
from scheduling import metrics as scheduling_metrics
from scheduling.mediator.models import EmployerKind, Mediator
from scheduling.meeting.models import Meeting, MeetingStatus, Referral
from shared.db import create_engine, create_sessionmaker
from shared.migrations import upgrade_to_head

pytestmark = pytest.mark.clock(NOVEMBER_2026)  # today is Wed 25 Nov 2026 (London)
TODAY = date(2026, 11, 25)
SOUTHEND, OTHER = "E06000033", "E06000034"


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.fixture
def migrated(database_url: str) -> Callable[[str], AsyncIterator[AsyncSession]]:
    async def session(migrations: str) -> AsyncIterator[AsyncSession]:
        await asyncio.to_thread(upgrade_to_head, migrations, database_url)
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine, source="/test", wakers={})() as db:
                yield db
        finally:
            await engine.dispose()

    return session


async def test_open_cases_by_stage_are_counted_from_the_database_and_survive_a_restart(
        database_url: str, kafka_bootstrap: str, namespace: str) -> None:
    settings = IntakeSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              kafka_namespace=namespace, environment="test")
    async with serve(create_app(settings)) as intake:
        for payload in (case_payload(), case_payload(), case_payload(kind="mediation_declined", mediation_issues=[])):
            (await intake.post("/v1/cases", json=payload, headers=PORTAL)).raise_for_status()
        before = (await intake.get("/metrics")).text
    [family] = [f for f in text_string_to_metric_families(before) if f.name == "cases_open"]
    assert {frozenset(s.labels) for s in family.samples} == {frozenset({"la", "stage"})}  # never a case id
    CASES_OPEN.clear()  # the gauges live in this process: empty, as in a process that has just started
    async with serve(create_app(settings)) as restarted:
        (await restarted.get("/metrics")).raise_for_status()
    assert sample("cases_open", la=SOUTHEND, stage="submitted") == 2
    assert sample("cases_open", la=SOUTHEND, stage="declined") == 1
    assert sample("cases_open", la=SOUTHEND, stage="meeting_scheduled") == 0  # a series per stage, at 0


async def test_certificates_on_time_late_and_overdue_per_la_and_kind(migrated) -> None:
    async for session in migrated("certificates:migrations"):
        for case_id, la in (("c1", SOUTHEND), ("c2", SOUTHEND), ("c3", OTHER), ("c4", OTHER)):
            session.add(CaseRecord(case_id=case_id, reference=f"R-{case_id}", la_code=la, decision="refusal",
                                   notice_sent_on=date(2026, 11, 3), requester_role="parent", requester_name="A"))

        def certificate(case_id: str, kind: CertificateKind, status: CertificateStatus, due_on: date,
                        issued_on: date | None = None, reviewed: bool = False) -> Certificate:
            return Certificate(case_id=case_id, kind=kind, trigger_ref=f"t-{case_id}-{kind}", trigger_event_id="e",
                               triggered_on=due_on - timedelta(days=3), due_on=due_on, status=status,
                               issuer="LA", provider="P", issued_on=issued_on, reviewed=reviewed)

        session.add_all([
            certificate("c1", CertificateKind.adviser, CertificateStatus.issued, TODAY, issued_on=TODAY),
            certificate("c2", CertificateKind.mediator, CertificateStatus.issued, TODAY - timedelta(days=2),
                        issued_on=TODAY),  # late
            certificate("c3", CertificateKind.mediator, CertificateStatus.issued, TODAY - timedelta(days=9),
                        issued_on=TODAY, reviewed=True),  # after a review (R4): the 3 working days never ran
            certificate("c4", CertificateKind.adviser, CertificateStatus.pending, TODAY - timedelta(days=1)),
        ])
        await session.commit()
        await certificate_metrics.refresh(session)
    on_record = "certificates_issued_on_record"
    assert sample(on_record, la=SOUTHEND, kind="adviser", timeliness="on_time") == 1
    assert sample(on_record, la=SOUTHEND, kind="mediator", timeliness="late") == 1
    assert sample(on_record, la=SOUTHEND, kind="mediator", timeliness="on_time") == 0
    assert sample(on_record, la=OTHER, kind="mediator", timeliness="on_time") == 1
    assert sample("certificates_overdue", la=OTHER, kind="adviser") == 1
    assert sample("certificates_overdue", la=SOUTHEND, kind="adviser") == 0


async def test_mediations_within_30_days_breaches_this_month_and_cases_at_risk(migrated) -> None:
    async for session in migrated("scheduling:migrations"):
        session.add(Mediator(id="m1", name="M", provider_id="p", employer_kind=EmployerKind.independent,
                             employer_name="E"))

        def referral(case_id: str, la: str, mediate_by: date, **more: object) -> Referral:
            return Referral(case_id=case_id, reference=f"R-{case_id}", la_code=la, provider_id="p",
                            mediate_by=mediate_by, arranging_body="local_authority", referred_on=TODAY, **more)

        def meeting(case_id: str, la: str, day: date, status: MeetingStatus, held: bool | None = None) -> Meeting:
            starts = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
            return Meeting(case_id=case_id, la_code=la, mediator_id="m1", assignment_reason="r",
                           arranging_body="local_authority", notice_given_on=TODAY, mediate_by=None,
                           starts_at=starts, ends_at=starts + timedelta(hours=2), location="Video call",
                           status=status, held=held)

        session.add_all([
            referral("h1", SOUTHEND, TODAY), referral("h2", SOUTHEND, TODAY - timedelta(days=5)),
            referral("b1", SOUTHEND, date(2026, 11, 2), breach_raised_on=date(2026, 11, 2)),
            referral("b0", SOUTHEND, date(2026, 10, 20), breach_raised_on=date(2026, 10, 20)),  # last month
            referral("r1", OTHER, TODAY + timedelta(days=2)),  # at risk: Fri 27 Nov, nothing booked
            referral("r2", OTHER, TODAY + timedelta(days=3)),  # booked: not at risk
            referral("r3", OTHER, TODAY + timedelta(days=30)),  # far off
        ])
        await session.flush()
        session.add_all([
            meeting("h1", SOUTHEND, TODAY - timedelta(days=1), MeetingStatus.concluded, held=True),
            meeting("h2", SOUTHEND, TODAY - timedelta(days=1), MeetingStatus.concluded, held=True),  # late
            meeting("r2", OTHER, TODAY + timedelta(days=1), MeetingStatus.scheduled),
        ])
        await session.commit()
        await scheduling_metrics.refresh(session)
    assert sample("mediations_held", la=SOUTHEND, timeliness="within_30_days") == 1
    assert sample("mediations_held", la=SOUTHEND, timeliness="late") == 1
    assert sample("mediation_deadline_breaches", la=SOUTHEND) == 2
    assert sample("mediation_deadline_breaches_this_month", la=SOUTHEND) == 1
    assert sample("cases_at_risk", la=OTHER) == 1
    assert sample("cases_at_risk", la=SOUTHEND) == 0
