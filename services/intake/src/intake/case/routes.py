from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.exc import IntegrityError

from intake.case import service as case_service
from intake.case.schemas import CaseCreate, CasePage, CaseRead, CaseSummary, TimelineEntryRead
from intake.timeline import service as timeline_service
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES

router = APIRouter(prefix="/v1/cases", tags=["cases"])

PortalWriter = Annotated[ApiClient, Depends(require_scope("cases:write"))]
PortalReader = Annotated[ApiClient, Depends(require_scope("cases:read"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255,
           description="Send the same key when retrying: the original case comes back, never a second one"),
]


async def _read(session: SessionDep, case_id: str, la_code: str | None) -> CaseRead:
    case = await case_service.get_or_raise(session, case_id, la_code=la_code)
    timeline = await timeline_service.for_case(session, case.id)
    return CaseRead.model_validate(case).model_copy(
        update={"timeline": [TimelineEntryRead.model_validate(e, from_attributes=True) for e in timeline]}
    )


@router.post(
    "",
    status_code=201,
    response_model=CaseRead,
    summary="Submit a mediation request or a decline of mediation",
    responses={
        200: {"description": "A retry with the same Idempotency-Key and body: the original case", "model": CaseRead},
        **VALIDATION_RESPONSES, **AUTH_RESPONSES, **case_service.IdempotencyKeyReused.response(),
    },
)
async def submit_case(body: CaseCreate, session: SessionDep, client: PortalWriter, response: Response,
                      key: IdempotencyKey = None) -> CaseRead:
    """Store the request, start its statutory clocks and announce it to the other services.

    `mediation` emits `case.submitted` (scheduling books a meeting); `mediation_declined`
    emits `case.mediation_declined` (certificates issues the adviser certificate, R6).
    """
    la_code = client.la_code or ""
    if key is not None and (existing := await case_service.find_by_idempotency_key(
            session, la_code=la_code, key=key, body=body)):
        response.status_code = 200
        return await _read(session, existing.id, la_code)
    case = await case_service.submit(session, body, la_code=la_code, key=key)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if key is None:
            raise
        existing = await case_service.find_by_idempotency_key(session, la_code=la_code, key=key, body=body)
        if existing is None:
            raise
        response.status_code = 200
        return await _read(session, existing.id, la_code)
    return await _read(session, case.id, la_code)


@router.get("/{case_id}", response_model=CaseRead, summary="Follow a case: its deadlines and timeline",
            responses={**case_service.CaseNotFound.response("No such case for this local authority"),
                       **AUTH_RESPONSES})
async def get_case(case_id: str, session: SessionDep, client: PortalReader) -> CaseRead:
    """The case with every step so far, from every service, in order. Another LA's case answers 404."""
    return await _read(session, case_id, client.la_code)


@router.get("", response_model=CasePage, summary="List this local authority's cases, newest first",
            responses={**AUTH_RESPONSES})
async def list_cases(session: SessionDep, client: PortalReader,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> CasePage:
    cases = await case_service.list_for_la(session, la_code=client.la_code or "", limit=limit)
    return CasePage(items=[CaseSummary.model_validate(c) for c in cases])
