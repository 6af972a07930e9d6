from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.mediator import rules
from scheduling.mediator import service as mediator_service
from scheduling.mediator.models import Mediator
from scheduling.mediator.schemas import (
    AvailabilityReplace,
    ExceptionIn,
    ExceptionRead,
    MediatorAdminUpsert,
    MediatorDetail,
    MediatorPage,
    MediatorRead,
    WindowRead,
)
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES, InvalidRequest

router = APIRouter(prefix="/v1/admin/mediators", tags=["mediators"])
OpsReader = Annotated[ApiClient, Depends(require_scope("ops:read"))]
OpsWriter = Annotated[ApiClient, Depends(require_scope("ops:write"))]
MediatorId = Annotated[str, Path(max_length=64, examples=["med-0001"])]
NOT_FOUND = mediator_service.MediatorNotFound.response("No mediator with this id")
WRITE_ERRORS = {**VALIDATION_RESPONSES, **AUTH_RESPONSES, **NOT_FOUND}


def _read(mediator: Mediator) -> MediatorRead:
    return MediatorRead.model_validate({**mediator.model_dump(), "independent": rules.is_independent(mediator)})


async def _detail(session: AsyncSession, mediator: Mediator) -> MediatorDetail:
    return MediatorDetail(
        **_read(mediator).model_dump(),
        windows=[WindowRead.model_validate(w) for w in await mediator_service.windows(session, mediator.id)],
        exceptions=[ExceptionRead.model_validate(e) for e in await mediator_service.exceptions(session, mediator.id)])


def _same_id(path_id: str, body_id: str, field: str) -> None:
    if path_id != body_id:
        raise InvalidRequest.field(field, f"must be the mediator in the path ({path_id})")


@router.get("", response_model=MediatorPage, summary="List mediators", responses={**AUTH_RESPONSES})
async def list_mediators(session: SessionDep, _: OpsReader,
                         provider_id: Annotated[str | None, Query(max_length=64)] = None,
                         active: bool | None = None) -> MediatorPage:
    """Every mediator kept, by id; filter by provider and by whether they take bookings. Mediators who are
    not independent (R13) are listed, with `independent: false`: they are never assigned."""
    mediators = await mediator_service.list_mediators(session, provider_id=provider_id, active=active)
    return MediatorPage(items=[_read(m) for m in mediators])


@router.get("/{mediator_id}", response_model=MediatorDetail, summary="One mediator, with availability",
            responses={**AUTH_RESPONSES, **NOT_FOUND})
async def get_mediator(mediator_id: MediatorId, session: SessionDep, _: OpsReader) -> MediatorDetail:
    return await _detail(session, await mediator_service.get(session, mediator_id))


@router.put("/{mediator_id}", response_model=MediatorDetail, summary="Create or update a mediator",
            responses={**VALIDATION_RESPONSES, **AUTH_RESPONSES,
                       **mediator_service.MediatorOfAnotherProvider.response(
                           "The mediator is kept for another provider")})
async def upsert_mediator(mediator_id: MediatorId, body: MediatorAdminUpsert, session: SessionDep,
                          _: OpsWriter) -> MediatorDetail:
    """The body's `id` must be the path's. The same fields as the provider's `mediator.updated` webhook.
    An LA, ICB or NHS England employee is kept but never assigned (R13)."""
    _same_id(mediator_id, body.id, "body.id")
    mediator = await mediator_service.upsert_mediator(session, body.provider_id, body)
    await session.commit()
    return await _detail(session, mediator)


@router.put("/{mediator_id}/availability", response_model=MediatorDetail,
            summary="Replace the mediator's recurring availability", responses=WRITE_ERRORS)
async def replace_availability(mediator_id: MediatorId, body: AvailabilityReplace, session: SessionDep,
                               _: OpsWriter) -> MediatorDetail:
    """Windows are RFC 5545 RRULEs with local start and end times (Europe/London). `exceptions`, when given,
    replaces every exception; omitted, they are kept. The same body as the provider's
    `mediator.availability_updated` webhook's `data`."""
    _same_id(mediator_id, body.mediator_id, "body.mediator_id")
    await mediator_service.replace_availability(session, mediator_id, body)
    await session.commit()
    return await _detail(session, await mediator_service.get(session, mediator_id))


@router.post("/{mediator_id}/exceptions", response_model=ExceptionRead, status_code=201,
             summary="Add days the mediator is unavailable", responses=WRITE_ERRORS)
async def add_exception(mediator_id: MediatorId, body: ExceptionIn, session: SessionDep,
                        _: OpsWriter) -> ExceptionRead:
    row = await mediator_service.add_exception(session, mediator_id, body)
    await session.commit()
    return ExceptionRead.model_validate(row)


@router.delete("/{mediator_id}/exceptions/{exception_id}", status_code=204, response_class=Response,
               summary="Remove an exception",
               responses={**AUTH_RESPONSES, **mediator_service.ExceptionNotFound.response(
                   "No such exception for this mediator")})
async def remove_exception(mediator_id: MediatorId, exception_id: Annotated[str, Path(max_length=32)],
                           session: SessionDep, _: OpsWriter) -> Response:
    await mediator_service.remove_exception(session, mediator_id, exception_id)
    await session.commit()
    return Response(status_code=204)
