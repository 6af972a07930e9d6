"""Certificates: one per trigger, issued by a worker; corrections and verification. Flush, never commit."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from stdnum import luhn

from certificates.certificate import pdf
from certificates.certificate.models import CaseRecord, Certificate, CertificateKind, CertificateStatus
from certificates.certificate.signing import PdfSigner
from certificates.certificate.verification import surname_matches
from shared import clock
from shared.calendar import DEFAULT_CALENDAR, appeal_deadline
from shared.db import wake_after_commit
from shared.directory import load_directory
from shared.errors import Conflict, NotFound
from shared.events.cases import CaseFacts
from shared.events.certificates import (
    CertificateDocumentReadyV1,
    CertificateIssuedLateV1,
    CertificateIssuedV1,
    CertificateReissuedV1,
    CertificateVoidedV1,
    VoidReason,
)
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)

ISSUER = "certificate_issuer"
DUE_WORKING_DAYS = 3  # R6, R10, R15


class CertificateNotFound(NotFound):
    title = "Certificate not found"


class CertificateNotCurrent(Conflict):
    code = "certificate_not_current"
    title = "Only the current version of a certificate can be corrected or revoked"


@dataclass(frozen=True)
class Issuing:
    """What issuing needs beyond the rows: numbering, signing and the verification link."""

    number_prefix: str
    public_base_url: str
    signer: PdfSigner

    def verification_url(self, number: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/v1/verify?number={quote(number)}"


def certificate_number(prefix: str, year: int, serial: int) -> str:
    """Human-friendly and checkable: MC-2026-000042-5 (serial of at least 6 digits, Luhn check digit over year and serial)."""
    digits = f"{year}{serial:06d}"
    return f"{prefix}-{year}-{serial:06d}-{luhn.calc_check_digit(digits)}"


async def keep_case_facts(session: AsyncSession, facts: CaseFacts) -> None:
    values: dict[str, Any] = {"reference": facts.reference, "la_code": facts.la_code, "decision": facts.decision,
              "notice_sent_on": facts.notice_sent_on, "requester_role": facts.requester.role,
              "requester_name": facts.requester.name}
    record = await session.get(CaseRecord, facts.case_id)
    if record is None:
        record = CaseRecord(case_id=facts.case_id, **values)
    else:
        record.sqlmodel_update(values)
    session.add(record)
    wake_after_commit(session, ISSUER)  # a certificate may be waiting for these facts


async def case_facts(session: AsyncSession, case_id: str) -> CaseRecord | None:
    return await session.get(CaseRecord, case_id)


async def request(session: AsyncSession, *, case_id: str, kind: CertificateKind, trigger_ref: str,
                  trigger_event_id: str, triggered_on: date, issuer: str, provider: str,
                  mediation_date: date | None = None) -> Certificate:
    """Record that a certificate is due (R6, R10, R15); the issuer worker issues it at once."""
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


async def issue_pending(session: AsyncSession, *, issuing: Issuing, batch: int = 10) -> list[Certificate]:
    """Issue certificates whose case facts are known: number, signed PDF, events."""
    rows = (await session.exec(
        select(Certificate, CaseRecord)
        .join(CaseRecord, col(CaseRecord.case_id) == col(Certificate.case_id))
        .where(Certificate.status == CertificateStatus.pending)
        .order_by(col(Certificate.serial))
        .limit(batch)
        .with_for_update(skip_locked=True, of=Certificate)
    )).all()
    for certificate, case in rows:
        await _issue(session, certificate, case, issuing=issuing)
    return [certificate for certificate, _ in rows]


async def count_waiting_overdue(session: AsyncSession, *, today: date) -> int:
    """Triggers that cannot be served: still pending after their due date."""
    rows = await session.exec(select(func.count()).select_from(Certificate).where(
        Certificate.status == CertificateStatus.pending, col(Certificate.due_on) < today))
    return int(rows.one())


def is_late(certificate: Certificate) -> bool:
    return certificate.issued_on is not None and certificate.issued_on > certificate.due_on


async def _issue(session: AsyncSession, certificate: Certificate, case: CaseRecord, *, issuing: Issuing,
                 supersedes: Certificate | None = None) -> None:
    now = clock.now()
    assert certificate.serial is not None
    certificate.number = certificate_number(issuing.number_prefix, now.year, certificate.serial)
    # R16: a corrected version keeps the original issue date, so the appeal clock (R17) does not move.
    certificate.issued_on = supersedes.issued_on if supersedes is not None else clock.london_date(now)
    certificate.issued_at, certificate.status = now, CertificateStatus.issued
    assert certificate.issued_on is not None
    deadline = appeal_deadline(notice_sent_on=case.notice_sent_on, certificate_issued_on=certificate.issued_on)
    certificate.appeal_deadline = deadline.day
    authority = load_directory().get(case.la_code)
    if authority is not None and not certificate.issuer:  # requested before the case's facts arrived (R10)
        certificate.issuer, certificate.provider = authority.mediation_adviser.name, authority.mediation_provider.name
    rendered = pdf.render(pdf.CertificateContent(
        number=certificate.number, kind=certificate.kind, issued_on=certificate.issued_on,
        issuer=certificate.issuer, provider=certificate.provider,
        la_name=authority.name if authority else case.la_code, requester_name=case.requester_name,
        requester_role=case.requester_role, case_reference=case.reference, decision=case.decision,
        notice_sent_on=case.notice_sent_on, mediation_date=certificate.mediation_date,
        appeal_deadline=deadline.day, verification_url=issuing.verification_url(certificate.number),
        version=certificate.version, supersedes_number=supersedes.number if supersedes is not None else None,
    ))
    certificate.pdf = await issuing.signer.sign(rendered, reason=f"SEND mediation certificate {certificate.number}")
    session.add(certificate)
    if supersedes is not None:
        assert supersedes.number is not None
        add_event(session, CertificateReissuedV1(
            certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
            version=certificate.version, issued_on=certificate.issued_on, appeal_deadline=deadline.day,
            supersedes_certificate_id=supersedes.id, supersedes_number=supersedes.number,
        ), subject=case.case_id)
    else:
        add_event(session, CertificateIssuedV1(
            certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
            issued_on=certificate.issued_on, due_on=certificate.due_on, appeal_deadline=deadline.day,
        ), subject=case.case_id)
        if is_late(certificate):
            add_event(session, CertificateIssuedLateV1(
                certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
                triggered_on=certificate.triggered_on, due_on=certificate.due_on, issued_on=certificate.issued_on,
                days_late=(certificate.issued_on - certificate.due_on).days,
            ), subject=case.case_id)
            log.warning("certificate.issued_late", case_id=case.case_id, certificate_id=certificate.id,
                        due_on=str(certificate.due_on), kind=certificate.kind)
    add_event(session, CertificateDocumentReadyV1(
        certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
        issued_on=certificate.issued_on, filename=f"{certificate.number}.pdf",
        pdf_base64=base64.b64encode(certificate.pdf).decode(),
    ), subject=case.case_id)
    log.info("certificate.issued", case_id=case.case_id, certificate_id=certificate.id, kind=certificate.kind,
             version=certificate.version)


async def _load(session: AsyncSession, certificate_id: str, *, la_code: str | None,
                for_update: bool = False) -> tuple[Certificate, CaseRecord]:
    query = select(Certificate).where(Certificate.id == certificate_id)
    if for_update:
        query = query.with_for_update()
    certificate = (await session.exec(query)).first()
    if certificate is None or certificate.status is not CertificateStatus.issued:
        raise CertificateNotFound(f"no issued certificate {certificate_id}")
    case = await session.get(CaseRecord, certificate.case_id)
    if case is None or (la_code is not None and case.la_code != la_code):
        raise CertificateNotFound(f"no issued certificate {certificate_id}")  # another LA's: looks absent
    return certificate, case


async def get_for_la(session: AsyncSession, certificate_id: str, *, la_code: str | None) -> Certificate:
    certificate, _ = await _load(session, certificate_id, la_code=la_code)
    return certificate


def _ensure_current(certificate: Certificate) -> None:
    if certificate.voided_at is not None:
        raise CertificateNotCurrent(f"certificate {certificate.number} was revoked")
    if certificate.superseded_by_id is not None:
        raise CertificateNotCurrent(f"certificate {certificate.number} was replaced by a corrected version")


async def reissue(session: AsyncSession, certificate_id: str, *, la_code: str | None, issuing: Issuing, reason: str,
                  issuer: str | None = None, provider: str | None = None,
                  mediation_date: date | None = None) -> Certificate:
    """R16: a corrected certificate is a new version, with its own number, that keeps the original issue date.

    It prints the case facts as certificates now holds them (intake's latest), with the given corrections.
    """
    old, case = await _load(session, certificate_id, la_code=la_code, for_update=True)
    _ensure_current(old)
    root_ref = old.trigger_ref.split("#", 1)[0]
    new = Certificate(
        case_id=old.case_id, kind=old.kind, trigger_ref=f"{root_ref}#v{old.version + 1}",
        trigger_event_id=old.trigger_event_id, triggered_on=old.triggered_on, due_on=old.due_on,
        issuer=issuer or old.issuer, provider=provider or old.provider,
        mediation_date=mediation_date or old.mediation_date, version=old.version + 1, supersedes_id=old.id,
        correction_reason=reason,
    )
    session.add(new)
    await session.flush()  # the serial numbers the new version
    await _issue(session, new, case, issuing=issuing, supersedes=old)
    old.superseded_by_id = new.id
    session.add(old)
    log.info("audit.certificate_reissued", case_id=case.case_id, certificate_id=new.id, supersedes=old.id)
    return new


async def void(session: AsyncSession, certificate_id: str, *, la_code: str | None, reason: VoidReason,
               note: str | None = None) -> Certificate:
    """Revoke a certificate: it stays on record, and its number now verifies as "revoked"."""
    certificate, case = await _load(session, certificate_id, la_code=la_code, for_update=True)
    _ensure_current(certificate)
    now = clock.now()
    certificate.voided_at, certificate.void_reason, certificate.void_note = now, reason, note
    session.add(certificate)
    assert certificate.number is not None
    add_event(session, CertificateVoidedV1(
        certificate_id=certificate.id, case_id=case.case_id, number=certificate.number, kind=certificate.kind,
        reason=reason, voided_on=clock.london_date(now),
    ), subject=case.case_id)
    log.info("audit.certificate_voided", case_id=case.case_id, certificate_id=certificate.id, reason=reason)
    return certificate


VerificationStatus = Literal["valid", "superseded", "revoked"]


@dataclass(frozen=True)
class Verification:
    status: VerificationStatus
    certificate: Certificate
    la_name: str
    superseded_by_number: str | None = None


async def verify(session: AsyncSession, *, number: str, surname: str) -> Verification | None:
    """None for an unknown number and for a wrong surname alike, so numbers cannot be enumerated."""
    certificate = (await session.exec(select(Certificate).where(Certificate.number == number.strip().upper()))).first()
    case = await session.get(CaseRecord, certificate.case_id) if certificate is not None else None
    matches = surname_matches(case.requester_name if case is not None else "", surname)
    if certificate is None or case is None or not matches:
        return None
    authority = load_directory().get(case.la_code)
    la_name = authority.name if authority else case.la_code
    if certificate.voided_at is not None:
        return Verification("revoked", certificate, la_name)
    if certificate.superseded_by_id is not None:
        newer = (await session.exec(select(Certificate).where(Certificate.id == certificate.superseded_by_id))).first()
        return Verification("superseded", certificate, la_name, newer.number if newer is not None else None)
    return Verification("valid", certificate, la_name)
