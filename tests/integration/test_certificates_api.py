"""Certificates against PostgreSQL and Kafka: issue per trigger, signed PDFs, corrections, public verification."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlmodel import col, select
from support import NOVEMBER_2026, OPS, POISON_DOCUMENT_NAME, PORTAL, document_unless_poison, eventually, serve

from certificates.certificate import documents
from certificates.certificate import service as certificate_service
from certificates.certificate.models import Certificate, CertificateKind, CertificateStatus
from certificates.certificate.verification import TokenBucket
from certificates.main import create_app
from certificates.settings import CertificatesSettings
from shared import clock
from shared.auth import DEVELOPMENT_CLIENTS, ApiClient
from shared.calendar import appeal_deadline
from shared.events import Envelope, MeetingConcludedV1
from shared.events.cases import CertificateFactsMediationDeclinedV1, CertificateFactsSubmittedV1, NamedRequester
from shared.events.meetings import MeetingDeadlineMissedV1
from shared.kafka import codec
from shared.kafka.admin import ensure_topics
from shared.outbox import OutboxEvent

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

SOUTHEND = "E06000033"
SOUTHEND_WRITER = {"Authorization": "Bearer dev-only-southend-writer"}
OTHER_LA = {"Authorization": "Bearer dev-only-other-portal"}
NOTICE_SENT_ON = date(2026, 11, 3)


def certificates_settings(database_url: str, kafka_bootstrap: str, namespace: str, tmp_path: Path,
                          **overrides: Any) -> CertificatesSettings:
    clients = {
        **DEVELOPMENT_CLIENTS,
        "dev-only-southend-writer": ApiClient(name="Southend case officers", la_code=SOUTHEND,
                                              scopes=frozenset({"certificates:read", "certificates:write"})),
        "dev-only-other-portal": ApiClient(name="Another LA", la_code="E06000034",
                                           scopes=frozenset({"certificates:read", "certificates:write"})),
    }
    return CertificatesSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, kafka_namespace=namespace,
        environment="test", api_clients=clients, public_base_url="https://certificates.example",
        signing_key_path=tmp_path / "signing" / "key.pem", signing_cert_path=tmp_path / "signing" / "cert.pem",
        verify_burst=100, verify_per_minute=100,
        # Documents made on the service's own loop: a pool's spawned processes took 3-4 s of each test. The
        # pool is tested with the poison fixture below, in tests/unit/test_certificates_pdf.py and end to end.
        **{"signing_processes": 0, **overrides},
    )


@pytest.fixture
async def certificates(database_url: str, kafka_bootstrap: str, namespace: str,
                       tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = certificates_settings(database_url, kafka_bootstrap, namespace, tmp_path)
    await topics_ready(kafka_bootstrap, namespace)
    app = create_app(settings)
    async with serve(app) as client:
        client.settings = settings  # type: ignore[attr-defined]
        yield client


async def topics_ready(bootstrap: str, namespace: str) -> None:
    """Create the topics and wait until the broker's metadata has them, before the consumer group forms.

    A consumer that joins while a just-created topic is missing from the metadata is assigned no partition
    of it until its next metadata refresh (minutes), so its events would wait that long.
    """
    topics = [namespace + t for t in ("intake.certificate-facts", "scheduling.meetings", "certificates.certificates",
                                      "certificates.documents", "certificates.dlt")]
    await ensure_topics(bootstrap, topics, partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic in topics:
            await eventually(lambda topic=topic: producer.partitions_for(topic), what=f"metadata for {topic}")
    finally:
        await producer.stop()


def facts(case_id: str, *, name: str = "Alex Example", la_code: str = SOUTHEND) -> dict[str, Any]:
    return dict(case_id=case_id, reference=f"SEND-{case_id[-8:].upper()}", la_code=la_code,
                decision="refusal_to_assess", notice_sent_on=NOTICE_SENT_ON,
                requester=NamedRequester(role="parent", name=name))


def declined(case_id: str, *, told: date = date(2026, 11, 25), **overrides: Any) -> CertificateFactsMediationDeclinedV1:
    return CertificateFactsMediationDeclinedV1(**facts(case_id, **overrides), told_adviser_on=told,
                                               certificate_due_on=date(2026, 11, 30))


async def publish(client: httpx.AsyncClient, *envelopes: Envelope[Any]) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    namespace = runtime.settings.kafka_namespace
    await runtime.producer.send_all([codec.encode(e, namespace + e.data.topic) for e in envelopes])


def envelope(data: Any, subject: str) -> Envelope[Any]:
    return Envelope.wrap(data, source="/send-mediation/test", subject=subject)


async def certificates_of(client: httpx.AsyncClient, case_id: str) -> list[Certificate]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        query = select(Certificate).where(Certificate.case_id == case_id).order_by(col(Certificate.serial))
        return list((await session.exec(query)).all())


async def issued_certificate(client: httpx.AsyncClient, case_id: str) -> Certificate:
    async def probe() -> Certificate | None:
        rows = await certificates_of(client, case_id)
        return next((row for row in rows if row.status is CertificateStatus.issued), None)

    return await eventually(probe, what=f"a certificate issued for {case_id}")


async def outbox(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxEvent).where(OutboxEvent.type == event_type)
                                   .order_by(col(OutboxEvent.id)))).all()
        return [Envelope[Any].model_validate_json(row.envelope).data for row in rows]


async def given_an_issued_certificate(client: httpx.AsyncClient, case_id: str, *, name: str = "Alex Example",
                                      la_code: str = SOUTHEND, told: date = date(2026, 11, 25)) -> Certificate:
    """Through the service layer, as the consumer's handlers would; the issuer worker does the rest."""
    data = declined(case_id, told=told, name=name, la_code=la_code)
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await certificate_service.keep_case_facts(session, data)
        await certificate_service.request(session, case_id=case_id, kind=CertificateKind.adviser,
                                          trigger_ref="declined", trigger_event_id=f"evt-{case_id}",
                                          triggered_on=told, issuer="Jo Adviser", provider="Mediation Co")
        await session.commit()
    return await issued_certificate(client, case_id)


async def code_of(client: httpx.AsyncClient, number: str) -> str:
    """The verification code printed on the certificate with this number (a wrong one for an unknown number)."""
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        found = (await session.exec(select(Certificate).where(Certificate.number == number.upper()))).first()
    return found.verification_code if found is not None and found.verification_code else "00000-00000-00000"


async def verify(client: httpx.AsyncClient, number: str, surname: str, code: str | None = None) -> httpx.Response:
    """As a Tribunal clerk would, with the code from the certificate unless another is given."""
    code = code if code is not None else await code_of(client, number)
    return await client.post("/v1/verify", json={"number": number, "code": code, "surname": surname})


# --- issue: the right kind per trigger, exactly once, on time or visibly late ---------------------------------


async def test_r6_a_decline_issues_one_adviser_certificate_however_often_the_event_arrives(certificates):
    data = declined("case-decline-0001")
    event = envelope(data, data.case_id)
    another_delivery_of_the_same_trigger = envelope(data, data.case_id)

    await publish(certificates, event, event, another_delivery_of_the_same_trigger)
    certificate = await issued_certificate(certificates, data.case_id)
    await asyncio.sleep(2)  # let every delivery be handled

    assert [row.id for row in await certificates_of(certificates, data.case_id)] == [certificate.id]
    assert certificate.kind is CertificateKind.adviser
    assert certificate.due_on == date(2026, 11, 30)  # Wed 25 Nov + 3 working days
    [announced] = await outbox(certificates, "certificate.issued.v1")
    assert announced["number"] == certificate.number
    assert announced["appeal_deadline"] == str(appeal_deadline(
        notice_sent_on=NOTICE_SENT_ON, certificate_issued_on=certificate.issued_on).day)


async def test_r15_a_concluded_meeting_issues_a_mediator_certificate_with_the_mediation_date(certificates):
    case_id = "case-mediated-0001"
    submitted = CertificateFactsSubmittedV1(**facts(case_id))
    concluded = MeetingConcludedV1(meeting_id="meeting-0001", case_id=case_id, mediator_name="Sam Mediator",
                                   provider_name="Mediation Co", concluded_on=date(2026, 11, 26), held=True,
                                   agreement="partial")

    await publish(certificates, envelope(submitted, case_id), envelope(concluded, case_id))
    certificate = await issued_certificate(certificates, case_id)

    assert (certificate.kind, certificate.issuer, certificate.mediation_date) == (
        CertificateKind.mediator, "Sam Mediator", date(2026, 11, 26))
    assert certificate.due_on == date(2026, 12, 1)  # Thu 26 Nov + 3 working days


async def test_r10_a_missed_30_days_issues_one_certificate_from_the_las_adviser(certificates):
    case_id = "case-missed-0001"
    submitted = CertificateFactsSubmittedV1(**facts(case_id))
    missed = MeetingDeadlineMissedV1(case_id=case_id, mediate_by=date(2026, 12, 20), adviser_told_on=date(2026, 12, 23))
    reported_again = MeetingDeadlineMissedV1(case_id=case_id, mediate_by=date(2026, 12, 20),
                                             adviser_told_on=date(2026, 12, 24))

    await publish(certificates, envelope(missed, case_id), envelope(submitted, case_id),
                  envelope(reported_again, case_id))
    certificate = await issued_certificate(certificates, case_id)
    await asyncio.sleep(2)

    assert [row.id for row in await certificates_of(certificates, case_id)] == [certificate.id]
    assert certificate.kind is CertificateKind.missed_deadline
    assert certificate.issuer and certificate.provider  # the LA's adviser, from the directory
    # Wed 23 Dec + 3 working days: 25 Dec, 28 Dec (Boxing Day substitute) and the weekend do not count.
    assert certificate.due_on == date(2026, 12, 30)


async def test_a_certificate_issued_after_its_due_date_is_announced_and_counted(certificates):
    before = REGISTRY.get_sample_value("certificates_issued_late_total", {"kind": "adviser"}) or 0.0

    # Told on Thu 2 Apr 2026: Good Friday (3 Apr) and Easter Monday (6 Apr) are not working days.
    certificate = await given_an_issued_certificate(certificates, "case-late-0001", told=date(2026, 4, 2))

    assert certificate.due_on == date(2026, 4, 9)
    [late] = await outbox(certificates, "certificate.issued_late.v1")
    assert (late["number"], late["due_on"], late["days_late"]) == (
        certificate.number, "2026-04-09", (certificate.issued_on - date(2026, 4, 9)).days)  # type: ignore[operator]
    after = await eventually(lambda: _late_count_above(before), what="the late metric")
    assert after == before + 1
    metrics = (await certificates.get("/metrics")).text
    assert 'certificates_issued_late_total{kind="adviser"}' in metrics


async def _late_count_above(before: float) -> float | None:
    value = REGISTRY.get_sample_value("certificates_issued_late_total", {"kind": "adviser"}) or 0.0
    return value if value > before else None


async def test_a_trigger_that_cannot_be_served_past_its_due_date_is_visible_to_ops(certificates):
    case_id = "case-nofacts-0001"
    async with certificates.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await certificate_service.request(session, case_id=case_id, kind=CertificateKind.adviser,
                                          trigger_ref="declined", trigger_event_id="evt-nofacts",
                                          triggered_on=date(2026, 4, 2), issuer="Jo Adviser", provider="Mediation Co")
        await session.commit()

    def waiting(expected: float) -> Any:
        async def probe() -> bool:
            return REGISTRY.get_sample_value("certificates_waiting_overdue") == expected
        return probe

    await eventually(waiting(1.0), what="one overdue certificate waiting")
    async with certificates.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await certificate_service.keep_case_facts(session, declined(case_id))
        await session.commit()
    await issued_certificate(certificates, case_id)
    await eventually(waiting(0.0), what="nothing waiting")


async def test_a_certificate_issued_on_time_is_not_reported_late(certificates):
    await given_an_issued_certificate(certificates, "case-ontime-0001")

    assert await outbox(certificates, "certificate.issued_late.v1") == []


@pytest.mark.clock("2026-07-01T23:30:00+00:00")  # 00:30 BST on Thu 2 July in England
async def test_r16_a_certificate_issued_half_an_hour_after_midnight_bst_is_dated_that_london_day(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-midnight-0001", told=date(2026, 7, 2))

    assert certificate.issued_on == date(2026, 7, 2)  # the UTC date is still 1 July
    assert await outbox(certificates, "certificate.issued_late.v1") == []


# --- the document -----------------------------------------------------------------------------------------------


async def test_the_portal_downloads_its_signed_certificate_with_number_kind_and_appeal_deadline(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-pdf-0001")

    response = await certificates.get(f"/v1/certificates/{certificate.id}/pdf", headers=PORTAL)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(response.content)).pages)
    deadline = appeal_deadline(notice_sent_on=NOTICE_SENT_ON, certificate_issued_on=certificate.issued_on).day
    assert certificate.number in text
    assert certificate.verification_code is not None and certificate.verification_code in text
    assert "mediation advice given, mediation declined" in text
    assert f"5pm on {deadline.strftime('%A %-d %B %Y')}" in text
    cert_path = certificates.settings.signing_cert_path  # type: ignore[attr-defined]
    [signature] = PdfFileReader(io.BytesIO(response.content)).embedded_signatures
    status = await async_validate_pdf_signature(
        signature, ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))]))
    assert status.bottom_line


async def test_every_download_is_audited_without_personal_data(certificates, caplog):
    certificate = await given_an_issued_certificate(certificates, "case-audit-0001", name="Robin Quillfeather")
    caplog.clear()

    await certificates.get(f"/v1/certificates/{certificate.id}/pdf", headers=PORTAL)

    [audit] = [record.getMessage() for record in caplog.records if "audit.certificate_downloaded" in record.getMessage()]
    assert certificate.id in audit and "Southend-on-Sea portal" in audit
    assert "Quillfeather" not in audit


async def test_another_las_certificate_is_refused_as_if_it_did_not_exist(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-other-0001", la_code="E06000034")

    download = await certificates.get(f"/v1/certificates/{certificate.id}/pdf", headers=PORTAL)
    facts_ = await certificates.get(f"/v1/certificates/{certificate.id}", headers=PORTAL)
    reissue = await certificates.post(f"/v1/certificates/{certificate.id}/reissue", json={"reason": "x"},
                                      headers=SOUTHEND_WRITER)
    unknown = await certificates.get("/v1/certificates/no-such-id/pdf", headers=PORTAL)

    assert (download.status_code, facts_.status_code, reissue.status_code) == (404, 404, 404)
    assert {**download.json(), "detail": None} == {**unknown.json(), "detail": None}
    assert (await certificates.get(f"/v1/certificates/{certificate.id}/pdf", headers=OTHER_LA)).status_code == 200


# --- public verification ----------------------------------------------------------------------------------------


async def test_verification_with_the_right_surname_says_valid_with_the_minimum_facts(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-verify-0001", name="Alex van der Berg")

    response = await verify(certificates, certificate.number.lower(), "Van der Berg")  # type: ignore[union-attr]

    assert response.status_code == 200
    assert response.json() == {
        "status": "valid", "number": certificate.number, "kind": "adviser",
        "issued_on": str(certificate.issued_on), "appeal_deadline": str(certificate.appeal_deadline),
        "local_authority": "Southend-on-Sea City Council", "superseded_by": None, "revoked_on": None,
    }
    assert "Berg" not in response.text and "Alex" not in response.text


async def test_a_wrong_surname_and_an_unknown_number_get_the_same_answer(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-verify-0002")
    assert certificate.number is not None
    _, year, serial, _ = certificate.number.split("-")
    unknown_number = certificate_service.certificate_number("MC", int(year), int(serial) + 500)

    wrong_surname = await verify(certificates, certificate.number, "Smith")
    unknown = await verify(certificates, unknown_number, "Example")

    assert wrong_surname.status_code == unknown.status_code == 404
    assert wrong_surname.content == unknown.content
    assert wrong_surname.headers["content-type"] == unknown.headers["content-type"]


async def test_verification_without_the_certificates_code_fails_even_with_the_right_number_and_surname(
        certificates):
    certificate = await given_an_issued_certificate(certificates, "case-verify-0003")
    assert certificate.number is not None and certificate.verification_code is not None
    other = await given_an_issued_certificate(certificates, "case-verify-0004")

    missing = await certificates.post("/v1/verify", json={"number": certificate.number, "surname": "Example"})
    wrong = await verify(certificates, certificate.number, "Example", code="00000-00000-00000")
    anothers = await verify(certificates, certificate.number, "Example", code=other.verification_code)
    typed = await verify(certificates, certificate.number, "Example",
                         code=certificate.verification_code.lower().replace("-", " "))

    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["body.code"]
    assert wrong.status_code == anothers.status_code == 404
    assert wrong.content == anothers.content
    assert typed.status_code == 200 and typed.json()["status"] == "valid"


async def test_after_n_wrong_answers_a_number_refuses_even_the_right_code_until_the_window_passes(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-verify-0005")
    assert certificate.number is not None
    limit = certificates.settings.verify_failures_per_number  # type: ignore[attr-defined]

    wrong = [(await verify(certificates, certificate.number, "Example", code="00000-00000-00000")).status_code
             for _ in range(limit)]
    locked = await verify(certificates, certificate.number, "Example")
    clock.CLOCK.advance(timedelta(minutes=certificates.settings.verify_lockout_minutes))  # type: ignore[attr-defined]
    after_the_window = await verify(certificates, certificate.number, "Example")

    assert wrong == [404] * limit
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert after_the_window.status_code == 200 and after_the_window.json()["status"] == "valid"


async def test_an_unknown_number_locks_after_n_wrong_answers_just_like_a_real_one(certificates):
    limit = certificates.settings.verify_failures_per_number  # type: ignore[attr-defined]

    answers = [(await verify(certificates, "MC-2026-999990-1", "Example")).status_code for _ in range(limit + 1)]

    assert answers == [404] * limit + [429]


async def test_verification_is_rate_limited_per_client_address(certificates):
    certificates.app.state.verify_limiter = TokenBucket(burst=3, per_minute=1)  # type: ignore[attr-defined]

    answers = [(await verify(certificates, "MC-2026-000001-9", "Example")).status_code for _ in range(4)]
    refused = await verify(certificates, "MC-2026-000001-9", "Example")

    assert answers == [404, 404, 404, 429]
    assert int(refused.headers["retry-after"]) >= 1


async def test_the_qr_code_page_offers_a_form_prefilled_with_the_number(certificates):
    response = await certificates.get("/v1/verify", params={"number": "MC-2026-000042-5"})

    assert response.status_code == 200
    assert 'value="MC-2026-000042-5"' in response.text
    assert 'name="surname"' in response.text and 'name="code"' in response.text


async def test_the_qr_code_page_is_prefilled_with_the_code_the_qr_code_carries(certificates):
    response = await certificates.get("/v1/verify", params={"number": "MC-2026-000042-5", "code": "7Q2KD-M9XHE-4TRWB"})

    assert 'value="7Q2KD-M9XHE-4TRWB"' in response.text


# --- corrections ------------------------------------------------------------------------------------------------


async def test_r16_a_reissue_is_a_new_version_keeping_the_issue_date_and_the_old_number_is_superseded(certificates):
    old = await given_an_issued_certificate(certificates, "case-reissue-0001")

    response = await certificates.post(f"/v1/certificates/{old.id}/reissue", headers=OPS,
                                       json={"reason": "The mediation adviser's name was misspelt",
                                             "issuer": "Jo Advisor"})

    assert response.status_code == 201
    new = response.json()
    assert (new["version"], new["supersedes_id"], new["issuer"]) == (2, old.id, "Jo Advisor")
    assert new["number"] != old.number
    assert new["issued_on"] == str(old.issued_on)
    assert new["appeal_deadline"] == str(old.appeal_deadline)
    [event] = await outbox(certificates, "certificate.reissued.v1")
    assert (event["supersedes_number"], event["number"], event["version"]) == (old.number, new["number"], 2)
    assert "reason" not in event
    old_answer = (await verify(certificates, old.number, "Example")).json()  # type: ignore[arg-type]
    assert (old_answer["status"], old_answer["superseded_by"]) == ("superseded", new["number"])
    assert (await verify(certificates, new["number"], "Example")).json()["status"] == "valid"
    pdf = await certificates.get(f"/v1/certificates/{new['id']}/pdf", headers=PORTAL)
    assert f"corrects and replaces certificate {old.number}" in " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
    documents = await outbox(certificates, "certificate.document_ready.v1")
    assert [d["number"] for d in documents] == [old.number, new["number"]]


async def test_a_superseded_version_cannot_be_reissued_or_voided_again(certificates):
    old = await given_an_issued_certificate(certificates, "case-reissue-0002")
    await certificates.post(f"/v1/certificates/{old.id}/reissue", headers=OPS, json={"reason": "typo"})

    again = await certificates.post(f"/v1/certificates/{old.id}/reissue", headers=OPS, json={"reason": "typo"})
    void = await certificates.post(f"/v1/certificates/{old.id}/void", headers=OPS, json={"reason": "duplicate"})

    assert (again.status_code, void.status_code) == (409, 409)
    assert len(await outbox(certificates, "certificate.reissued.v1")) == 1


async def test_a_void_records_its_reason_and_the_number_then_verifies_as_revoked(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-void-0001")

    response = await certificates.post(f"/v1/certificates/{certificate.id}/void", headers=SOUTHEND_WRITER,
                                       json={"reason": "issued_in_error", "note": "Raised on the wrong case"})

    assert response.status_code == 200
    assert response.json()["void_reason"] == "issued_in_error"
    [event] = await outbox(certificates, "certificate.voided.v1")
    assert (event["number"], event["reason"]) == (certificate.number, "issued_in_error")
    assert "note" not in event
    answer = (await verify(certificates, certificate.number, "Example")).json()  # type: ignore[arg-type]
    assert answer["status"] == "revoked"
    assert answer["revoked_on"] is not None


async def test_a_portal_that_may_only_read_cannot_correct_and_another_la_cannot_void(certificates):
    certificate = await given_an_issued_certificate(certificates, "case-void-0002")

    reader = await certificates.post(f"/v1/certificates/{certificate.id}/void", headers=PORTAL,
                                     json={"reason": "issued_in_error"})
    other = await certificates.post(f"/v1/certificates/{certificate.id}/void", headers=OTHER_LA,
                                    json={"reason": "issued_in_error"})
    bad_reason = await certificates.post(f"/v1/certificates/{certificate.id}/void", headers=OPS,
                                         json={"reason": "because"})

    assert (reader.status_code, other.status_code, bad_reason.status_code) == (403, 404, 422)
    assert await outbox(certificates, "certificate.voided.v1") == []
    assert (await verify(certificates, certificate.number, "Example")).json()["status"] == "valid"  # type: ignore[arg-type]


# --- no automatic certificate: health-only (R2), late contact (R4), mediation after a missed 30 days (R10) ------


async def outbox_has(client: httpx.AsyncClient, event_type: str, case_id: str) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        return [e for e in await outbox(client, event_type) if e["case_id"] == case_id]

    return await eventually(probe, what=f"{event_type} for {case_id}")


async def reviews_of(client: httpx.AsyncClient, case_id: str, headers: dict[str, str] = PORTAL) -> list[Any]:
    response = await client.get("/v1/reviews", params={"case_id": case_id}, headers=headers)
    assert response.status_code == 200
    return list(response.json())


async def open_review(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    async def probe() -> list[Any]:
        return [r for r in await reviews_of(client, case_id) if r["status"] == "open"]

    [review] = await eventually(probe, what=f"an open review for {case_id}")
    return dict(review)


async def outcomes_of(client: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/certificates", params={"case_id": case_id}, headers=PORTAL)
    assert response.status_code == 200
    return list(response.json())


async def valid_numbers(client: httpx.AsyncClient, case_id: str) -> list[str]:
    """The case's certificate numbers that public verification answers "valid" for."""
    numbers = [row.number for row in await certificates_of(client, case_id) if row.number is not None]
    return [n for n in numbers if (await verify(client, n, "Example")).json()["status"] == "valid"]


def concluded(case_id: str, meeting_id: str, on: date) -> MeetingConcludedV1:
    return MeetingConcludedV1(meeting_id=meeting_id, case_id=case_id, mediator_name="Sam Mediator",
                              provider_name="Mediation Co", concluded_on=on, held=True, agreement="none")


async def test_r2_a_concluded_health_only_mediation_produces_no_certificate_and_says_why(certificates):
    case_id = "case-healthonly-0001"
    submitted = CertificateFactsSubmittedV1(**facts(case_id), health_only=True)

    await publish(certificates, envelope(submitted, case_id),
                  envelope(concluded(case_id, "meeting-health-0001", date(2026, 11, 24)), case_id))
    [event] = await outbox_has(certificates, "certificate.not_required.v1", case_id)

    assert (event["reason"], event["kind"], event["trigger_ref"]) == ("health_only", "mediator", "meeting-health-0001")
    [outcome] = await outcomes_of(certificates, case_id)
    assert outcome["status"] == "not_required" and outcome["number"] is None
    assert outcome["outcome"].startswith("no certificate: health-only")
    assert await outbox(certificates, "certificate.issued.v1") == []
    assert await outbox(certificates, "certificate.document_ready.v1") == []


async def test_r4_a_late_contact_decline_waits_for_a_review_and_issuing_after_it_announces_one_certificate(
        certificates):
    data = declined("case-latecontact-0001").model_copy(update={"late_contact": True})

    await publish(certificates, envelope(data, data.case_id))
    review = await open_review(certificates, data.case_id)

    assert review["kind"] == "late_contact" and "R4" in review["reason"]
    [held] = await outcomes_of(certificates, data.case_id)
    assert (held["status"], held["number"], held["id"]) == ("held", None, review["certificate_id"])
    [requested] = await outbox(certificates, "certificate.review_requested.v1")
    assert (requested["review_id"], requested["kind"]) == (review["id"], "late_contact")
    assert await outbox(certificates, "certificate.issued.v1") == []
    assert (await certificates.get("/v1/reviews", params={"case_id": data.case_id}, headers=OTHER_LA)).json() == []

    read_only = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=PORTAL,
                                        json={"decision": "issue", "reason": "x"})
    other_la = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=OTHER_LA,
                                       json={"decision": "issue", "reason": "x"})
    resolved = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=SOUTHEND_WRITER,
                                       json={"decision": "issue", "reason": "The notice went to an old address"})
    certificate = await issued_certificate(certificates, data.case_id)
    again = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=OPS,
                                    json={"decision": "refuse", "reason": "changed my mind"})

    assert (read_only.status_code, other_la.status_code, resolved.status_code, again.status_code) == (
        403, 404, 200, 409)
    assert (resolved.json()["status"], resolved.json()["decision"]) == ("resolved", "issue")
    assert resolved.json()["issued_certificate_id"] == certificate.id
    assert certificate.number is not None and certificate.kind is CertificateKind.adviser
    await asyncio.sleep(2)  # nothing more is issued
    [announced] = await outbox(certificates, "certificate.issued.v1")
    assert announced["number"] == certificate.number
    assert [d["number"] for d in await outbox(certificates, "certificate.document_ready.v1")] == [certificate.number]
    assert await valid_numbers(certificates, data.case_id) == [certificate.number]
    assert await outbox(certificates, "certificate.issued_late.v1") == []  # a review is not a missed limit


async def test_r4_a_late_contact_mediation_refused_on_review_issues_nothing(certificates):
    case_id = "case-latecontact-0002"
    submitted = CertificateFactsSubmittedV1(**facts(case_id), late_contact=True)

    await publish(certificates, envelope(submitted, case_id),
                  envelope(concluded(case_id, "meeting-late-0002", date(2026, 11, 24)), case_id))
    review = await open_review(certificates, case_id)
    ops_view = await reviews_of(certificates, case_id, headers=OPS)
    refused = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=OPS,
                                      json={"decision": "refuse", "reason": "No reason given for the delay"})

    assert [r["id"] for r in ops_view] == [review["id"]]
    assert refused.status_code == 200 and refused.json()["decision"] == "refuse"
    [outcome] = await outcomes_of(certificates, case_id)
    assert outcome["status"] == "refused" and "refused on review" in outcome["outcome"]
    assert (await certificates.get("/v1/reviews", params={"status": "open", "case_id": case_id},
                                   headers=PORTAL)).json() == []
    await asyncio.sleep(2)
    assert await outbox(certificates, "certificate.issued.v1") == []


async def test_r10_then_mediation_keeps_exactly_one_valid_certificate_at_every_step(certificates):
    case_id = "case-r10-then-0001"
    submitted = CertificateFactsSubmittedV1(**facts(case_id))
    missed = MeetingDeadlineMissedV1(case_id=case_id, mediate_by=date(2026, 11, 20), adviser_told_on=date(2026, 11, 23))

    await publish(certificates, envelope(submitted, case_id), envelope(missed, case_id))
    r10 = await issued_certificate(certificates, case_id)
    assert r10.kind is CertificateKind.missed_deadline
    assert await valid_numbers(certificates, case_id) == [r10.number]

    # The mediation takes place after all.
    await publish(certificates, envelope(concluded(case_id, "meeting-after-0001", date(2026, 11, 24)), case_id))
    review = await open_review(certificates, case_id)

    assert (review["kind"], review["certificate_id"], review["mediation_date"]) == (
        "mediation_after_missed_deadline", r10.id, "2026-11-24")
    assert await valid_numbers(certificates, case_id) == [r10.number]
    [not_required] = await outbox(certificates, "certificate.not_required.v1")
    assert not_required["reason"] == "missed_deadline_certificate_counts"
    still = (await certificates.get(f"/v1/certificates/{r10.id}", headers=PORTAL)).json()
    assert (still["later_mediation_on"], still["superseded_by_id"]) == ("2026-11-24", None)
    [_, mediator] = await outcomes_of(certificates, case_id)
    assert mediator["kind"] == "mediator" and mediator["status"] == "not_required"
    assert r10.number in mediator["outcome"]

    # The adviser replaces it through a correction (R16): the issue date, and so the appeal deadline, stay.
    resolved = await certificates.post(f"/v1/reviews/{review['id']}/resolve", headers=SOUTHEND_WRITER,
                                       json={"decision": "issue", "reason": "Show the mediation on the certificate"})

    assert resolved.status_code == 200
    new = (await certificates.get(f"/v1/certificates/{resolved.json()['issued_certificate_id']}",
                                  headers=PORTAL)).json()
    assert (new["kind"], new["version"], new["supersedes_id"], new["mediation_date"]) == (
        "missed_deadline", 2, r10.id, "2026-11-24")
    assert (new["issued_on"], new["appeal_deadline"]) == (str(r10.issued_on), str(r10.appeal_deadline))
    assert await valid_numbers(certificates, case_id) == [new["number"]]
    assert (await verify(certificates, r10.number, "Example")).json()["status"] == "superseded"  # type: ignore[arg-type]
    assert [e["number"] for e in await outbox(certificates, "certificate.issued.v1")] == [r10.number]
    [reissued] = await outbox(certificates, "certificate.reissued.v1")
    assert (reissued["supersedes_number"], reissued["number"]) == (r10.number, new["number"])


# --- R17 wording and London dates ----------------------------------------------------------------------------


async def test_r17_a_deadline_moved_out_of_christmas_is_explained_as_the_first_working_day_after_1_january(
        certificates):
    # Issued Wed 25 Nov: B = Fri 25 Dec 2026 beats A = 20 Oct + 2 months = Sun 20 Dec.
    data = declined("case-christmas-0001").model_copy(update={"notice_sent_on": date(2026, 10, 20)})

    await publish(certificates, envelope(data, data.case_id))
    certificate = await issued_certificate(certificates, data.case_id)
    read = (await certificates.get(f"/v1/certificates/{certificate.id}", headers=PORTAL)).json()
    document = await certificates.get(f"/v1/certificates/{certificate.id}/pdf", headers=PORTAL)

    assert certificate.issued_on == date(2026, 11, 25)
    assert read["appeal_deadline"] == "2027-01-04"  # Sat 2 and Sun 3 Jan are not working days
    assert read["appeal_deadline_reason"].startswith("1 month after the mediation certificate was issued")
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(document.content)).pages)
    assert "5pm on Monday 4 January 2027" in text
    assert ("That date, Friday 25 December 2026, falls between 25 December and 1 January, so the deadline is the "
            "first working day after 1 January.") in text
    assert "so the deadline is the next working day" not in text


@pytest.mark.clock("2026-07-01T23:30:00+00:00")  # 00:30 BST on Thu 2 July in England
async def test_r6_lateness_is_judged_on_the_london_date_not_the_utc_date(certificates):
    # Told Fri 26 June: due Wed 1 July, the UTC date now; in England it is already 2 July, a day late.
    certificate = await given_an_issued_certificate(certificates, "case-london-late-0001", told=date(2026, 6, 26))

    assert (certificate.due_on, certificate.issued_on) == (date(2026, 7, 1), date(2026, 7, 2))
    [late] = await outbox(certificates, "certificate.issued_late.v1")
    assert (late["number"], late["days_late"]) == (certificate.number, 1)


# --- a certificate whose document cannot be made (rendered and signed in a pool process, issue 12) -----------


@pytest.fixture
async def certificates_with_poison(database_url: str, kafka_bootstrap: str, namespace: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """Parks after two failures, tried again a tenth of a second after the first; documents made in two processes."""
    monkeypatch.setattr(documents, "document_in_pool", document_unless_poison)
    settings = certificates_settings(database_url, kafka_bootstrap, namespace, tmp_path, signing_processes=2,
                                     poison_max_tries=2, poison_retry_seconds=0.1)
    await topics_ready(kafka_bootstrap, namespace)
    async with serve(create_app(settings)) as client:
        yield client


async def test_a_certificate_whose_document_cannot_be_made_is_parked_after_bounded_tries_while_the_others_are_issued(
        certificates_with_poison):
    client = certificates_with_poison
    good = [f"case-behind-poison-{n}" for n in range(4)]
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for case_id, name in [("case-poison-document", POISON_DOCUMENT_NAME), *((c, "Alex Example") for c in good)]:
            await certificate_service.keep_case_facts(session, declined(case_id, name=name))
            await certificate_service.request(session, case_id=case_id, kind=CertificateKind.adviser,
                                              trigger_ref="declined", trigger_event_id=f"evt-{case_id}",
                                              triggered_on=date(2026, 11, 25), issuer="Jo Adviser",
                                              provider="Mediation Co")
        await session.commit()

    issued = [await issued_certificate(client, case_id) for case_id in good]

    async def parked() -> list[dict[str, Any]] | None:
        response = await client.get("/v1/ops/dead-letters?source=certificate_issuer", headers=OPS)
        items: list[dict[str, Any]] = response.json()["items"]
        return items or None

    [letter] = await eventually(parked, what="the certificate whose document cannot be made, parked")
    [poison] = await certificates_of(client, "case-poison-document")
    assert poison.status is CertificateStatus.pending and poison.number is None and poison.pdf is None
    assert (letter["case_id"], letter["event_id"], letter["reason"]) == ("case-poison-document", poison.id, "item_failed")
    assert letter["error"].startswith("ValueError")
    detail = (await client.get(f"/v1/ops/dead-letters/{letter['id']}", headers=OPS)).text
    assert "Poison" not in detail and "laid out" not in detail  # the error's class and place, no data
    for certificate in issued:
        assert certificate.pdf is not None and certificate.pdf.startswith(b"%PDF")
    assert len({certificate.number for certificate in issued}) == len(good)
