from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from scheduling.meeting import service as meeting_service
from scheduling.outbound import service as outbound_service
from scheduling.outbound.models import DeliveryStatus
from scheduling.outbound.schemas import (
    EndpointCreate,
    EndpointRead,
    EndpointSecret,
    MessagePage,
    MessageRead,
    Recovered,
    Recovery,
)
from shared import clock
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES

router = APIRouter(prefix="/v1/admin", tags=["outbound webhooks"])
OpsReader = Annotated[ApiClient, Depends(require_scope("ops:read"))]
OpsWriter = Annotated[ApiClient, Depends(require_scope("ops:write"))]
ENDPOINT_ERRORS = {**outbound_service.EndpointNotFound.response(), **AUTH_RESPONSES}


@router.post("/webhook-endpoints", status_code=201, response_model=EndpointSecret,
             summary="Register a provider's webhook endpoint", responses={**VALIDATION_RESPONSES, **AUTH_RESPONSES})
async def create_endpoint(body: EndpointCreate, session: SessionDep, _: OpsWriter) -> EndpointSecret:
    endpoint = await outbound_service.create_endpoint(session, provider_id=body.provider_id, url=str(body.url))
    await session.commit()
    return EndpointSecret(endpoint_id=endpoint.id, secret=endpoint.secrets[0])


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=EndpointSecret,
             summary="Rotate the signing secret (the previous one keeps signing until the next rotation)",
             responses=ENDPOINT_ERRORS)
async def rotate_secret(endpoint_id: str, session: SessionDep, _: OpsWriter) -> EndpointSecret:
    secret = await outbound_service.rotate_secret(session, endpoint_id)
    await session.commit()
    return EndpointSecret(endpoint_id=endpoint_id, secret=secret)


@router.get("/webhook-endpoints/{endpoint_id}", response_model=EndpointRead, responses=ENDPOINT_ERRORS)
async def get_endpoint(endpoint_id: str, session: SessionDep, _: OpsReader) -> EndpointRead:
    return EndpointRead.model_validate(await outbound_service.get_endpoint(session, endpoint_id))


@router.post("/webhook-endpoints/{endpoint_id}/recover", response_model=Recovered, responses=ENDPOINT_ERRORS,
             summary="Re-enable the endpoint and send again everything that failed since a time")
async def recover(endpoint_id: str, body: Recovery, session: SessionDep, _: OpsWriter) -> Recovered:
    requeued = await outbound_service.recover(session, endpoint_id, since=body.since)
    await session.commit()
    return Recovered(requeued=requeued)


@router.get("/webhook-messages", response_model=MessagePage, summary="The outbound delivery log",
            responses=AUTH_RESPONSES)
async def list_messages(session: SessionDep, _: OpsReader, status: DeliveryStatus | None = None,
                        endpoint_id: str | None = None, case_id: str | None = None,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100) -> MessagePage:
    messages = await outbound_service.list_messages(session, status=status, endpoint_id=endpoint_id,
                                                    case_id=case_id, limit=limit)
    return MessagePage(items=[MessageRead.model_validate(m) for m in messages])


@router.post("/webhook-messages/{message_id}/replay", response_model=MessageRead, status_code=202,
             summary="Send one message again now, under the same webhook-id",
             responses={**outbound_service.MessageNotFound.response(), **AUTH_RESPONSES})
async def replay(message_id: str, session: SessionDep, _: OpsWriter) -> MessageRead:
    message = await outbound_service.replay(session, message_id)
    await session.commit()
    return MessageRead.model_validate(message)


@router.post("/cases/{case_id}/disagreement-resolution-meeting", status_code=201,
             summary="Book a disagreement-resolution meeting now",
             responses={**AUTH_RESPONSES, **meeting_service.ConsentMissing.response(
                 "A party's consent is missing; `errors` names each missing party"),
                 **meeting_service.MeetingNotFound.response("No disagreement-resolution request for this case")})
async def book_disagreement_resolution(case_id: str, session: SessionDep, _: OpsWriter) -> dict[str, str | None]:
    """R21: refused until every party has consented (normally booking happens by itself once they have)."""
    settings = session.info["settings"]
    meeting = await meeting_service.book_disagreement_resolution(
        session, case_id, today=clock.today(), timezone=settings.meeting_timezone)
    await session.commit()
    return {"meeting_id": meeting.id if meeting else None}  # none: no mediator fits; the provider is asked
