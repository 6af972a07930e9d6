"""Certificates: one per trigger, issued by a worker. Flush, never commit."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from stdnum import luhn

from certificates.certificate import pdf
from certificates.certificate.models import CaseRecord, Certificate, CertificateKind, CertificateStatus
from shared.calendar import DEFAULT_CALENDAR
from shared.db import wake_after_commit
from shared.directory import load_directory
from shared.errors import NotFound
from shared.events import CertificateDocumentReadyV1, CertificateIssuedV1
from shared.events.cases import CaseFacts
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)

ISSUER = "certificate_issuer"
DUE_WORKING_DAYS = 3  # R6, R10, R15


class CertificateNotFound(NotFound):
    title = "Certificate not found"


def certificate_number(prefix: str, year: int, serial: int) -> str:
    """Human-friendly and checkable: MC-2026-000042-5 (serial of at least 6 digits, Luhn check digit over year and serial)."""
    digits = f"{year}{serial:06d}"
    return f"{prefix}-{year}-{serial:06d}-{luhn.calc_check_digit(digits)}"


async def keep_case_facts(session: AsyncSession, facts: CaseFacts) -> None:
    record = await session.get(CaseRecord, facts.case_id) or CaseRecord(case_id=facts.case_id)
    record.reference, record.la_code, record.decision, record.notice_sent_on = (
        facts.reference, facts.la_code, facts.decision, facts.notice_sent_on)
    record.requester_role, record.requester_name = facts.requester.role, facts.requester.name
    session.add(record)
    wake_after_commit(session, ISSUER)  # a certificate may be waiting for these facts


async def request(session: AsyncSession, *, case_id: str, kind: CertificateKind, trigger_ref: str,
                  trigger_event_id: str, triggered_on: date, issuer: str, provider: str,
                  mediation_date: date | None = None) -> Certificate:
    """Record that a certificate is due (R6, R15); the issuer worker issues it at once."""
    existing = (await session.exec(select(Certificate).where(
        Certificate.case_id == case_id, Certificate.kind == kind, Certificate.trigger_ref == trigger_ref))).first()
    if existing is not None:
        return existing
    certificate = Certificate(
        case_id=case_id, kind=kind, trigger_ref=trigger_ref, trigger_event_id=trigger_event_id,
        triggered_on=triggered_on, due_on=DEFAULT_CALENDAR.add_working_days(triggered_on, DUE_WORKING_DAYS),
        issuer=issuer, provider=provider, mediation_date=mediation_date,
    )
    session.add(certificate)
    wake_after_commit(session, ISSUER)
    return certificate


async def issue_pending(session: AsyncSession, *, number_prefix: str, batch: int = 10) -> int:
    """Issue certificates whose case facts are known: number, PDF, events. Returns how many."""
    rows = (await session.exec(
        select(Certificate, CaseRecord)
        .join(CaseRecord, col(CaseRecord.case_id) == col(Certificate.case_id))
        .where(Certificate.status == CertificateStatus.pending)
        .order_by(col(Certificate.serial))
        .limit(batch)
        .with_for_update(skip_locked=True, of=Certificate)  # type: ignore[arg-type]
    )).all()
    for certificate, case in rows:
        _issue(session, certificate, case, number_prefix=number_prefix)
    return len(rows)


def _issue(session: AsyncSession, certificate: Certificate, case: CaseRecord, *, number_prefix: str) -> None:
    now = datetime.now(UTC)
    assert certificate.serial is not None
    certificate.number = certificate_number(number_prefix, now.year, certificate.serial)
    certificate.issued_on, certificate.issued_at, certificate.status = now.date(), now, CertificateStatus.issued
    authority = load_directory().get(case.la_code)
    certificate.pdf = pdf.render(pdf.CertificateContent(
        number=certificate.number, kind=certificate.kind, issued_on=certificate.issued_on,
        issuer=certificate.issuer, provider=certificate.provider,
        la_name=authority.name if authority else case.la_code, requester_name=case.requester_name,
        requester_role=case.requester_role, case_reference=case.reference, decision=case.decision,
        notice_sent_on=case.notice_sent_on, mediation_date=certificate.mediation_date,
    ))
    session.add(certificate)
    if certificate.issued_on > certificate.due_on:
        log.warning("certificate.issued_late", case_id=case.case_id, due_on=str(certificate.due_on))
    add_event(session, CertificateIssuedV1(
        certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
        issued_on=certificate.issued_on, due_on=certificate.due_on,
    ), subject=case.case_id)
    add_event(session, CertificateDocumentReadyV1(
        certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
        issued_on=certificate.issued_on, filename=f"{certificate.number}.pdf",
        pdf_base64=base64.b64encode(certificate.pdf).decode(),
    ), subject=case.case_id)
    log.info("certificate.issued", case_id=case.case_id, certificate_id=certificate.id, kind=certificate.kind)


async def get_for_la(session: AsyncSession, certificate_id: str, *, la_code: str | None) -> Certificate:
    certificate = (await session.exec(select(Certificate).where(Certificate.id == certificate_id))).first()
    if certificate is None or certificate.status is not CertificateStatus.issued:
        raise CertificateNotFound(f"no issued certificate {certificate_id}")
    case = await session.get(CaseRecord, certificate.case_id)
    if la_code is not None and (case is None or case.la_code != la_code):
        raise CertificateNotFound(f"no issued certificate {certificate_id}")  # another LA's: looks absent
    return certificate
