"""Certificates' business metrics, beside the ones every service exposes (shared.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import and_, case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from certificates.certificate.models import (
    CaseRecord,
    Certificate,
    CertificateKind,
    CertificateStatus,
    Review,
    ReviewKind,
    ReviewStatus,
)
from shared import clock
from shared.metrics import replace_series

CERTIFICATES_ISSUED = Counter("certificates_issued_total", "Certificates issued (first versions)", ["kind"])
CERTIFICATES_ISSUED_LATE = Counter(
    "certificates_issued_late_total",
    "Certificates issued after their due date (3 working days after the trigger: R6, R10, R15)", ["kind"],
)
CERTIFICATES_WAITING_OVERDUE = Gauge(
    "certificates_waiting_overdue",
    "Certificates triggered but not issued, past their due date (e.g. the case's facts never arrived)",
)

# Counted from the database on every scrape (right after a restart, in every process), for the statutory dashboard.
# Labels are bounded: LA code, certificate kind, on time or late; never a case id or a name.
CERTIFICATES_ON_RECORD = Gauge(
    "certificates_issued_on_record",
    "Certificates issued (first versions), by LA, kind and whether within the 3 working days (R6, R10, R15)",
    ["la", "kind", "timeliness"],
)
CERTIFICATES_OVERDUE = Gauge(
    "certificates_overdue", "Certificates triggered, not issued, past their due date now, by LA and kind", ["la", "kind"],
)
CERTIFICATE_REVIEWS_OPEN = Gauge(
    "certificate_reviews_open", "Certificate reviews waiting for a person's decision (R4, R10), by LA and kind",
    ["la", "kind"],
)

TIMELINESS = ("on_time", "late")
ISSUED_KINDS = tuple(kind.value for kind in CertificateKind)


async def refresh(session: AsyncSession) -> None:
    today = clock.today()
    las = [str(la) for la in (await session.exec(select(CaseRecord.la_code).distinct())).all()]
    # Late as certificate_service.is_late: after its due date, unless a person's review let it be issued (R4).
    timeliness = case((and_(col(Certificate.issued_on) > col(Certificate.due_on), col(Certificate.reviewed).is_(False)),
                       "late"), else_="on_time")
    issued = (await session.exec(
        select(CaseRecord.la_code, Certificate.kind, timeliness, func.count())
        .join(CaseRecord, col(CaseRecord.case_id) == col(Certificate.case_id))
        .where(Certificate.status == CertificateStatus.issued, Certificate.version == 1)
        .group_by(CaseRecord.la_code, Certificate.kind, timeliness))).all()
    overdue = (await session.exec(
        select(CaseRecord.la_code, Certificate.kind, func.count())
        .join(CaseRecord, col(CaseRecord.case_id) == col(Certificate.case_id))
        .where(Certificate.status == CertificateStatus.pending, col(Certificate.due_on) < today)
        .group_by(CaseRecord.la_code, Certificate.kind))).all()
    reviews = (await session.exec(
        select(Review.la_code, Review.kind, func.count()).where(Review.status == ReviewStatus.open)
        .group_by(Review.la_code, Review.kind))).all()
    replace_series(CERTIFICATES_ON_RECORD,
                   {(la, CertificateKind(kind).value, str(t)): n for la, kind, t, n in issued},
                   zeros=[(la, kind, t) for la in las for kind in ISSUED_KINDS for t in TIMELINESS])
    replace_series(CERTIFICATES_OVERDUE, {(la, CertificateKind(kind).value): n for la, kind, n in overdue},
                   zeros=[(la, kind) for la in las for kind in ISSUED_KINDS])
    replace_series(CERTIFICATE_REVIEWS_OPEN, {(la, ReviewKind(kind).value): n for la, kind, n in reviews},
                   zeros=[(la, kind.value) for la in las for kind in ReviewKind])
