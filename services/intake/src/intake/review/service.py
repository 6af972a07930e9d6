"""Human reviews: opened by intake's rules, decided by a person (the LA or operations). Flush, never commit."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.review.models import Review, ReviewDecision, ReviewKind, ReviewStatus
from intake.timeline import service as timeline_service
from shared import clock
from shared.errors import Conflict, NotFound
from shared.events.cases import CaseReviewResolvedV1
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)


class ReviewNotFound(NotFound):
    title = "Review not found"


class ReviewAlreadyResolved(Conflict):
    code = "review_already_resolved"
    title = "The review already has a decision"


def open_review(session: AsyncSession, *, case_id: str, la_code: str, kind: ReviewKind, reason: str) -> Review:
    review = Review(case_id=case_id, la_code=la_code, kind=kind, reason=reason)
    session.add(review)
    timeline_service.remember(session, review)
    timeline_service.add(session, case_id=case_id, kind="review_opened", at=clock.now(),
                         summary=f"Human review needed: {reason}", reference=review.id)
    log.info("review.opened", case_id=case_id, review_id=review.id, kind=kind.value)
    return review


async def for_case(session: AsyncSession, case_id: str) -> list[Review]:
    return list((await session.exec(select(Review).where(Review.case_id == case_id)
                                    .order_by(col(Review.opened_at), col(Review.id)))).all())


async def list_reviews(session: AsyncSession, *, la_code: str | None, status: ReviewStatus | None,
                       kind: ReviewKind | None, limit: int) -> list[Review]:
    """Oldest first: the longest-waiting decision comes first. ``la_code`` None: every LA (operations)."""
    query = select(Review)
    if la_code is not None:
        query = query.where(Review.la_code == la_code)
    if status is not None:
        query = query.where(Review.status == status)
    if kind is not None:
        query = query.where(Review.kind == kind)
    return list((await session.exec(query.order_by(col(Review.opened_at), col(Review.id)).limit(limit))).all())


async def get_or_raise(session: AsyncSession, review_id: str, *, la_code: str | None) -> Review:
    review = await session.get(Review, review_id)
    if review is None or (la_code is not None and review.la_code != la_code):
        raise ReviewNotFound(f"no review {review_id} for this client")  # another LA's review looks absent
    return review


async def resolve(session: AsyncSession, review: Review, *, decision: ReviewDecision, reason: str,
                  by: str) -> Review:
    """A person's decision, with the reason; announced so that certificates can act on it (e.g. R4)."""
    if review.status is ReviewStatus.resolved:
        raise ReviewAlreadyResolved(f"review {review.id} was resolved on {review.resolved_at}")
    review.status, review.decision, review.decision_reason = ReviewStatus.resolved, decision, reason
    review.resolved_by, review.resolved_at = by, clock.now()
    session.add(review)
    timeline_service.add(session, case_id=review.case_id, kind="review_resolved", at=review.resolved_at,
                         summary=f"Review of {review.kind.value.replace('_', ' ')} resolved: {decision.value}",
                         reference=review.id)
    add_event(session, CaseReviewResolvedV1(case_id=review.case_id, la_code=review.la_code, review_id=review.id,
                                            kind=review.kind.value, decision=decision.value,
                                            resolved_on=clock.today()), subject=review.case_id)
    await session.flush()
    log.info("review.resolved", case_id=review.case_id, review_id=review.id, decision=decision.value)
    return review
