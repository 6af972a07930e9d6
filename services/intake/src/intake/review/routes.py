from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from intake.case.schemas import ReviewPage, ReviewRead, ReviewResolution
from intake.review import service as review_service
from intake.review.models import Review, ReviewKind, ReviewStatus
from shared.auth import AUTH_RESPONSES, ApiClient, require_any_scope
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])

#: An LA portal sees and decides its own cases' reviews; operations sees and decides every LA's.
Reader = Annotated[ApiClient, Depends(require_any_scope("cases:read", "ops:read"))]
Writer = Annotated[ApiClient, Depends(require_any_scope("cases:write", "ops:write"))]


def _la(client: ApiClient) -> str | None:
    return None if client.kind == "ops" else client.la_code or ""


@router.get("", response_model=ReviewPage, summary="Human reviews waiting for a decision (or decided)",
            responses={**AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def list_reviews(
    session: SessionDep, client: Reader,
    status: Annotated[ReviewStatus | None, Query(description="Default: open reviews only")] = ReviewStatus.open,
    kind: ReviewKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> ReviewPage:
    """Oldest first. Operations sees every local authority's reviews; a portal sees its own. A review is never
    decided by the system: e.g. contact with the adviser after the 2-month window (R4) waits here."""
    reviews = await review_service.list_reviews(session, la_code=_la(client), status=status, kind=kind, limit=limit)
    return ReviewPage(items=[ReviewRead.model_validate(r) for r in reviews])


@router.post("/{review_id}/resolution", response_model=ReviewRead,
             summary="Decide a review, with the reason",
             responses={**review_service.ReviewNotFound.response(), **review_service.ReviewAlreadyResolved.response(),
                        **VALIDATION_RESPONSES, **AUTH_RESPONSES})
async def resolve_review(review_id: str, body: ReviewResolution, session: SessionDep, client: Writer) -> Review:
    """Records who decided, what and why; emits `case.review_resolved` (the reason stays here). A decided review
    answers 409."""
    review = await review_service.get_or_raise(session, review_id, la_code=_la(client))
    await review_service.resolve(session, review, decision=body.decision, reason=body.reason, by=client.name)
    await session.commit()
    return review
