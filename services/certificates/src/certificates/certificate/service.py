"""Certificates: one per trigger, issued by a worker; corrections and verification. Flush, never commit."""

from __future__ import annotations

import base64
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal
from urllib.parse import quote

from sqlalchemy import BindParameter, bindparam, delete, exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select
from stdnum import luhn

from certificates.certificate import pdf, rules
from certificates.certificate.documents import Documents
from certificates.certificate.models import (
    CaseRecord,
    Certificate,
    CertificateKind,
    CertificateStatus,
    Review,
    ReviewDecision,
    ReviewKind,
    ReviewStatus,
    VerificationAttempt,
)
from certificates.certificate.verification import code_matches, new_verification_code, surname_matches
from shared import claims, clock, poison
from shared.calendar import DEFAULT_CALENDAR, appeal_deadline
from shared.db import wake_after_commit
from shared.directory import load_directory
from shared.errors import Conflict, NotFound
from shared.events.cases import CertificateFacts, CertificateFactsSubmittedV1
from shared.events.certificates import (
    CertificateDocumentReadyV1,
    CertificateIssuedLateV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReissuedV1,
    CertificateReviewRequestedV1,
    CertificateVoidedV1,
    NotRequiredReason,
    VoidReason,
)
from shared.logging import get_logger
from shared.outbox import add_event
from shared.poison import ItemFailure

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
    """What issuing needs beyond the rows: numbering, the documents (rendered and signed) and the verification link."""

    number_prefix: str
    public_base_url: str
    documents: Documents

    def verification_url(self, number: str, code: str | None = None) -> str:
        """The verification page, with the number and (for the QR code) the verification code filled in."""
        url = f"{self.public_base_url.rstrip('/')}/v1/verify?number={quote(number)}"
        return url if code is None else f"{url}&code={quote(code)}"


def certificate_number(prefix: str, year: int, serial: int) -> str:
    """Human-friendly and checkable: MC-2026-000042-5 (serial of at least 6 digits, Luhn check digit over year and serial)."""
    digits = f"{year}{serial:06d}"
    return f"{prefix}-{year}-{serial:06d}-{luhn.calc_check_digit(digits)}"


async def keep_case_facts(session: AsyncSession, facts: CertificateFacts) -> None:
    values: dict[str, Any] = {"reference": facts.reference, "la_code": facts.la_code, "decision": facts.decision,
              "notice_sent_on": facts.notice_sent_on, "requester_role": facts.requester.role,
              "requester_name": facts.requester.name}
    if isinstance(facts, CertificateFactsSubmittedV1):
        values["health_only"] = facts.health_only  # a decline does not say; it keeps what the submission said
    values["late_contact"] = facts.late_contact  # intake's latest judgement (the case's first contact)
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


@dataclass(frozen=True)
class Pending:
    """A trigger claimed for deciding, with its case's facts and whether it failed before (read in the claim)."""

    certificate: Certificate
    case: CaseRecord
    #: It has a ``work_item_failures`` row, which a success clears.
    failed_before: bool


@cache
def _next_pending_query(passing_over: bool) -> Select[Certificate, CaseRecord, bool, bool]:
    """The claim of ``next_pending``, built once (building it took a tenth of the service's CPU): ``now`` and
    the ids passed over are bound at each call. In two levels (``shared.claims``): so that stale statistics cannot
    make a claim compare every pending trigger with every other.
    """
    now: BindParameter[datetime] = bindparam("now")
    claim = (
        select(Certificate)
        .join(CaseRecord, col(CaseRecord.case_id) == col(Certificate.case_id))  # the case's facts are known
        .where(Certificate.status == CertificateStatus.pending, poison.available(ISSUER, Certificate.id, now))
    )
    claimed = claims.first_locked(Certificate, claim, order_by=col(Certificate.serial), passing_over=passing_over)
    earlier = aliased(Certificate)
    behind = exists().where(
        col(earlier.case_id) == col(claimed.case_id), col(earlier.serial) < col(claimed.serial),
        col(earlier.status) == CertificateStatus.pending, poison.available(ISSUER, earlier.id, now))
    failed = exists().where(col(ItemFailure.worker) == ISSUER, col(ItemFailure.item_key) == col(claimed.id))
    return (select(claimed, CaseRecord, failed, behind)
            .join(CaseRecord, col(CaseRecord.case_id) == col(claimed.case_id)))


async def next_pending(session: AsyncSession, now: datetime, *, in_hand: Collection[str] = ()) -> Pending | None:
    """The oldest trigger whose case facts are known, neither failing nor parked (``shared.poison``), locked.

    Never one behind an earlier trigger of its case that could be issued (locked by another issuer, say): a
    case's triggers are decided in order, since one may depend on another (R10 then mediation). ``in_hand``:
    the certificates this process is working on (until their failure is recorded, they look available).
    A trigger found behind another is passed over, and stays locked by this transaction until it ends.
    """
    row = await claims.first_not_held_back(session, _next_pending_query, {"now": now}, passing_over=in_hand)
    return None if row is None else Pending(row[0], row[1], bool(row[2]))


async def handle_pending(session: AsyncSession, certificate: Certificate, case: CaseRecord, *,
                         issuing: Issuing) -> None:
    """Issue (number, signed PDF, events), or hold for review (R4, R10) or record that none is required (R2,
    R10), with the reason and an event."""
    counts = await _current_missed_deadline(session, case.case_id) if (
        certificate.kind == CertificateKind.mediator) else None
    decided = rules.outcome(kind=certificate.kind, health_only=case.health_only, late_contact=case.late_contact,
                            reviewed=certificate.reviewed, missed_deadline_certificate_counts=counts is not None)
    if decided is rules.Outcome.health_only:
        _not_required(session, certificate, reason="health_only", outcome=rules.HEALTH_ONLY_OUTCOME)
    elif decided is rules.Outcome.missed_deadline_certificate_counts:
        assert counts is not None
        _mediation_after_missed_deadline(session, certificate, case, counts)
    elif decided is rules.Outcome.late_contact_review:
        _hold_for_late_contact(session, certificate, case)
    else:
        await _issue(session, certificate, case, issuing=issuing)


async def _current_missed_deadline(session: AsyncSession, case_id: str) -> Certificate | None:
    """The case's valid certificate after a missed 30 days (R10): issued, not revoked, not replaced."""
    return (await session.exec(select(Certificate).where(
        Certificate.case_id == case_id, Certificate.kind == CertificateKind.missed_deadline,
        Certificate.status == CertificateStatus.issued, col(Certificate.voided_at).is_(None),
        col(Certificate.superseded_by_id).is_(None)))).first()


def _not_required(session: AsyncSession, certificate: Certificate, *, reason: NotRequiredReason,
                  outcome: str) -> None:
    certificate.status, certificate.outcome = CertificateStatus.not_required, outcome
    session.add(certificate)
    add_event(session, CertificateNotRequiredV1(
        case_id=certificate.case_id, kind=certificate.kind, trigger_ref=certificate.trigger_ref,
        triggered_on=certificate.triggered_on, reason=reason, decided_on=clock.today(),
    ), subject=certificate.case_id)
    log.info("certificate.not_required", case_id=certificate.case_id, certificate_id=certificate.id,
             kind=certificate.kind, reason=reason)


def _open_review(session: AsyncSession, case: CaseRecord, *, kind: ReviewKind, trigger: Certificate,
                 about: Certificate, reason: str, mediation_date: date | None = None) -> Review:
    review = Review(case_id=case.case_id, la_code=case.la_code, kind=kind, trigger_ref=trigger.id, reason=reason,
                    certificate_id=about.id, mediation_date=mediation_date)
    session.add(review)
    add_event(session, CertificateReviewRequestedV1(
        review_id=review.id, case_id=case.case_id, kind=kind, certificate_kind=about.kind,
        opened_on=clock.london_date(review.created_at),
    ), subject=case.case_id)
    log.warning("certificate.review_requested", case_id=case.case_id, review_id=review.id, kind=kind)
    return review


def _hold_for_late_contact(session: AsyncSession, certificate: Certificate, case: CaseRecord) -> None:
    """R4: no automatic certificate after late contact; a person decides (``resolve_review``)."""
    certificate.status, certificate.outcome = CertificateStatus.held, rules.LATE_CONTACT_HELD
    session.add(certificate)
    _open_review(session, case, kind=ReviewKind.late_contact, trigger=certificate, about=certificate,
                 reason=rules.LATE_CONTACT_REASON)


def _mediation_after_missed_deadline(session: AsyncSession, certificate: Certificate, case: CaseRecord,
                                     counts: Certificate) -> None:
    """R10 then mediation: no second valid certificate with another appeal deadline behind anyone's back.

    The R10 certificate stays the one that counts and records the meeting; the adviser reviews, and may replace
    it through a correction (R16) that keeps its issue date, so that only one certificate verifies as valid.
    """
    assert counts.number is not None
    if certificate.mediation_date is not None:
        counts.later_mediation_on, counts.later_meeting_id = certificate.mediation_date, certificate.trigger_ref
        session.add(counts)
    _not_required(session, certificate, reason="missed_deadline_certificate_counts",
                  outcome=rules.missed_deadline_counts_outcome(counts.number))
    _open_review(session, case, kind=ReviewKind.mediation_after_missed_deadline, trigger=certificate,
                 about=counts, reason=rules.mediation_after_missed_deadline_reason(counts.number),
                 mediation_date=certificate.mediation_date)


async def count_waiting_overdue(session: AsyncSession, *, today: date) -> int:
    """Triggers that cannot be served: still pending after their due date."""
    rows = await session.exec(select(func.count()).select_from(Certificate).where(
        Certificate.status == CertificateStatus.pending, col(Certificate.due_on) < today))
    return int(rows.one())


def is_late(certificate: Certificate) -> bool:
    """Issued after its due date (London dates). Not after a review (R4): the 3 working days never ran for it."""
    return (certificate.issued_on is not None and not certificate.reviewed
            and certificate.issued_on > certificate.due_on)


async def _issue(session: AsyncSession, certificate: Certificate, case: CaseRecord, *, issuing: Issuing,
                 supersedes: Certificate | None = None) -> None:
    now = clock.now()
    assert certificate.serial is not None
    certificate.number = certificate_number(issuing.number_prefix, now.year, certificate.serial)
    certificate.verification_code = new_verification_code()
    # R16: a corrected version keeps the original issue date, so the appeal clock (R17) does not move.
    certificate.issued_on = supersedes.issued_on if supersedes is not None else clock.london_date(now)
    certificate.issued_at, certificate.status = now, CertificateStatus.issued
    assert certificate.issued_on is not None
    deadline = appeal_deadline(notice_sent_on=case.notice_sent_on, certificate_issued_on=certificate.issued_on)
    certificate.appeal_deadline, certificate.appeal_deadline_reason = deadline.day, deadline.reason[:500]
    authority = load_directory().get(case.la_code)
    if authority is not None and not certificate.issuer:  # requested before the case's facts arrived (R10)
        certificate.issuer, certificate.provider = authority.mediation_adviser.name, authority.mediation_provider.name
    content = pdf.CertificateContent(
        number=certificate.number, kind=certificate.kind, issued_on=certificate.issued_on,
        issuer=certificate.issuer, provider=certificate.provider,
        la_name=authority.name if authority else case.la_code, requester_name=case.requester_name,
        requester_role=case.requester_role, case_reference=case.reference, decision=case.decision,
        notice_sent_on=case.notice_sent_on, mediation_date=certificate.mediation_date,
        appeal_deadline=deadline.day, appeal_deadline_unmoved=deadline.unmoved,
        verification_url=issuing.verification_url(certificate.number, certificate.verification_code),
        verification_code=certificate.verification_code,
        version=certificate.version, supersedes_number=supersedes.number if supersedes is not None else None,
    )
    certificate.pdf = await issuing.documents.render_and_sign(
        content, reason=f"SEND mediation certificate {certificate.number}")
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


class ReviewNotFound(NotFound):
    title = "Review not found"


class ReviewAlreadyResolved(Conflict):
    code = "review_already_resolved"
    title = "The review was already resolved"


async def case_outcomes(session: AsyncSession, case_id: str, *, la_code: str | None) -> list[Certificate]:
    """Every trigger of a case and what became of it: issued, held for review, refused, or not required (and why).

    Another LA's case looks like a case with nothing recorded.
    """
    case = await session.get(CaseRecord, case_id)
    if case is None or (la_code is not None and case.la_code != la_code):
        return []
    return list((await session.exec(select(Certificate).where(Certificate.case_id == case_id)
                                    .order_by(col(Certificate.serial)))).all())


async def list_reviews(session: AsyncSession, *, la_code: str | None, status: ReviewStatus | None = None,
                       case_id: str | None = None) -> list[Review]:
    query = select(Review).order_by(col(Review.created_at), col(Review.id))
    if la_code is not None:
        query = query.where(Review.la_code == la_code)
    if status is not None:
        query = query.where(Review.status == status)
    if case_id is not None:
        query = query.where(Review.case_id == case_id)
    return list((await session.exec(query)).all())


async def _current_version(session: AsyncSession, certificate_id: str) -> str:
    """Follow corrections to the version that is current now (it may have been corrected since the review opened)."""
    current = certificate_id
    while True:
        row = (await session.exec(select(Certificate).where(Certificate.id == current))).first()
        if row is None or row.superseded_by_id is None:
            return current
        current = row.superseded_by_id


async def resolve_review(session: AsyncSession, review_id: str, *, la_code: str | None, issuing: Issuing,
                         decision: ReviewDecision, reason: str, resolved_by: str) -> Review:
    """A person's decision. ``issue`` after late contact (R4) releases the held certificate to the issuer, which
    numbers, signs and announces it once, like any other; after R10 then mediation it replaces the R10 certificate
    through a correction (R16) that records the mediation and keeps the issue date. ``refuse`` issues nothing.
    """
    review = (await session.exec(select(Review).where(Review.id == review_id).with_for_update())).first()
    if review is None or (la_code is not None and review.la_code != la_code):
        raise ReviewNotFound(f"no review {review_id}")
    if review.status is not ReviewStatus.open:
        raise ReviewAlreadyResolved(f"review {review_id} was resolved on "
                                    f"{clock.london_date(review.resolved_at) if review.resolved_at else '?'}")
    if review.kind == ReviewKind.late_contact:
        held = (await session.exec(select(Certificate).where(Certificate.id == review.certificate_id)
                                   .with_for_update())).one()
        if decision is ReviewDecision.issue:
            held.status, held.reviewed, held.outcome = CertificateStatus.pending, True, None
            review.issued_certificate_id = held.id
            wake_after_commit(session, ISSUER)
        else:
            held.status, held.outcome = CertificateStatus.refused, rules.LATE_CONTACT_REFUSED
        session.add(held)
    elif decision is ReviewDecision.issue:
        replaced = await _current_version(session, review.certificate_id)
        when = review.mediation_date.isoformat() if review.mediation_date else "a later date"
        new = await reissue(session, replaced, la_code=la_code, issuing=issuing,
                            reason=f"Mediation took place on {when}, after this certificate for a missed 30 days "
                                   f"(R10). Review: {reason}"[:500],
                            mediation_date=review.mediation_date)
        review.issued_certificate_id = new.id
    review.status, review.decision, review.decision_reason = ReviewStatus.resolved, decision, reason
    review.resolved_at, review.resolved_by = clock.now(), resolved_by
    session.add(review)
    log.info("audit.review_resolved", case_id=review.case_id, review_id=review.id, kind=review.kind,
             decision=decision)
    return review


VerificationStatus = Literal["valid", "superseded", "revoked"]


@dataclass(frozen=True)
class Verification:
    status: VerificationStatus
    certificate: Certificate
    la_name: str
    superseded_by_number: str | None = None


def normalise_number(number: str) -> str:
    return number.strip().upper()


async def verify(session: AsyncSession, *, number: str, code: str, surname: str) -> Verification | None:
    """None for an unknown number, a wrong code and a wrong surname alike, so nothing can be enumerated."""
    certificate = (await session.exec(select(Certificate).where(Certificate.number == normalise_number(number)))).first()
    case = await session.get(CaseRecord, certificate.case_id) if certificate is not None else None
    code_ok = code_matches(certificate.verification_code if certificate is not None else None, code)
    surname_ok = surname_matches(case.requester_name if case is not None else "", surname)
    if certificate is None or case is None or not (code_ok and surname_ok):
        return None
    authority = load_directory().get(case.la_code)
    la_name = authority.name if authority else case.la_code
    if certificate.voided_at is not None:
        return Verification("revoked", certificate, la_name)
    if certificate.superseded_by_id is not None:
        newer = (await session.exec(select(Certificate).where(Certificate.id == certificate.superseded_by_id))).first()
        return Verification("superseded", certificate, la_name, newer.number if newer is not None else None)
    return Verification("valid", certificate, la_name)


async def verification_locked_for(session: AsyncSession, number: str, *, limit: int, window_minutes: float) -> float:
    """Seconds until this number may be checked again after ``limit`` wrong answers in the window; 0 if it may."""
    attempt = await session.get(VerificationAttempt, normalise_number(number))
    if attempt is None or attempt.failures < limit:
        return 0.0
    remaining = (attempt.window_started_at + timedelta(minutes=window_minutes) - clock.now()).total_seconds()
    return max(0.0, remaining)


async def record_verification_failure(session: AsyncSession, number: str, *, window_minutes: float) -> None:
    """Count one wrong answer for this number (commits). A window that has passed starts again at one."""
    now, key = clock.now(), normalise_number(number)
    expired = now - timedelta(minutes=window_minutes)
    await session.exec(delete(VerificationAttempt).where(
        col(VerificationAttempt.window_started_at) < expired))
    if await session.get(VerificationAttempt, key) is None:
        session.add(VerificationAttempt(number=key, failures=1, window_started_at=now))
        try:
            await session.commit()
            return
        except IntegrityError:  # another replica counted this number's first failure at the same moment
            await session.rollback()
    await session.exec(update(VerificationAttempt).where(
        col(VerificationAttempt.number) == key).values(failures=col(VerificationAttempt.failures) + 1))
    await session.commit()
