"""Intake's business metrics for the statutory dashboard, counted from the database on every scrape.

Labels are bounded: the LA code and the case's stage, never a case id or a name.
"""

from __future__ import annotations

from prometheus_client import Gauge
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.case.models import Case, CaseStatus
from intake.review.models import Review, ReviewStatus
from shared.metrics import replace_series

#: The stages a case waits in; certificate_issued and withdrawn are closed.
OPEN_STAGES = (CaseStatus.submitted, CaseStatus.declined, CaseStatus.meeting_scheduled, CaseStatus.meeting_concluded)

CASES_OPEN = Gauge("cases_open", "Cases not yet closed (certificate issued or withdrawn), by LA and stage",
                   ["la", "stage"])
CASE_REVIEWS_OPEN = Gauge("case_reviews_open", "Intake reviews waiting for a person's decision, by LA", ["la"])


async def refresh(session: AsyncSession) -> None:
    las = [str(la) for la in (await session.exec(select(Case.la_code).distinct())).all()]
    open_cases = (await session.exec(
        select(Case.la_code, Case.status, func.count()).where(col(Case.status).in_(OPEN_STAGES))
        .group_by(Case.la_code, Case.status))).all()
    reviews = (await session.exec(
        select(Review.la_code, func.count()).where(Review.status == ReviewStatus.open).group_by(Review.la_code))).all()
    replace_series(CASES_OPEN, {(la, CaseStatus(stage).value): n for la, stage, n in open_cases},
                   zeros=[(la, stage.value) for la in las for stage in OPEN_STAGES])
    replace_series(CASE_REVIEWS_OPEN, {(la,): n for la, n in reviews}, zeros=[(la,) for la in las])
