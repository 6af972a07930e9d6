"""The provider's signed webhooks: bookings, changes, no-shows and outcomes, applied whole or not at all."""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.mediator import service as mediator_service
from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import InboundWebhook
from scheduling.webhook.schemas import (
    BookingData,
    MediatorAvailabilityUpdated,
    MediatorUpdated,
    MeetingBooked,
    MeetingCancelled,
    MeetingNoShow,
    MeetingOutcomeReported,
    MeetingRescheduled,
    RescheduleData,
    WebhookAccepted,
)
from shared import clock, webhooks
from shared.deps import SessionDep
from shared.errors import InvalidRequest, ServiceError, Unauthorized, field_errors

router = APIRouter(prefix="/v1/webhooks", tags=["provider webhooks"])

WEBHOOK_MODELS = (MeetingBooked, MeetingRescheduled, MeetingCancelled, MeetingNoShow, MeetingOutcomeReported,
                  MediatorUpdated, MediatorAvailabilityUpdated)
ProviderWebhook = Annotated[
    MeetingBooked | MeetingRescheduled | MeetingCancelled | MeetingNoShow | MeetingOutcomeReported | MediatorUpdated
    | MediatorAvailabilityUpdated,
    Field(discriminator="type")]
PROVIDER_WEBHOOK: TypeAdapter[Any] = TypeAdapter(ProviderWebhook)


def _type_of(model: type[BaseModel]) -> str:
    """The webhook type a model's ``type: Literal[...]`` field names."""
    return str(model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


WEBHOOK_TYPES = frozenset(_type_of(model) for model in WEBHOOK_MODELS)


class BadSignature(Unauthorized):
    code = "invalid_webhook_signature"
    title = "Webhook signature, timestamp or headers do not verify"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Signature realm="provider-webhooks"'}  # Standard Webhooks, not a bearer token


class MalformedWebhook(ServiceError):
    status = 400
    code = "malformed_webhook"
    title = "Webhook body is not valid JSON"


def _booking(data: BookingData | RescheduleData) -> meeting_service.Booking:
    venue = data.venue
    return meeting_service.Booking(
        starts_at=data.starts_at, ends_at=data.ends_at,
        venue=venue.address if venue is not None and venue.kind == "in_person" else None,
        remote_url=str(venue.url) if venue is not None and venue.kind == "remote" else None,
        mediator_id=getattr(data, "mediator_id", None),
        attendees=[a.model_dump() for a in data.attendees] if isinstance(data, BookingData) else None,
        child_views=data.child_views.model_dump() if isinstance(data, BookingData) and data.child_views else None,
        short_notice_consent_on=data.short_notice_consent.given_on if data.short_notice_consent else None)


async def _apply(session: AsyncSession, payload: BaseModel, *, provider_id: str, timezone: str) -> str | None:
    """Apply one webhook; the id of the meeting it applied to, if any."""
    today = clock.today()
    meeting_id = getattr(getattr(payload, "data", None), "meeting_id", None)
    if meeting_id is not None:  # a provider changes only its own meetings
        await meeting_service.check_provider(session, meeting_id, provider_id)
    match payload:
        case MeetingBooked(data=data):
            booked = await meeting_service.provider_book(session, data.case_id, _booking(data), provider_id=provider_id,
                                                         today=today, timezone=timezone)
            return booked.id
        case MeetingRescheduled(data=data):
            await meeting_service.provider_reschedule(session, data.meeting_id, _booking(data), reason=data.reason,
                                                      today=today, timezone=timezone)
        case MeetingCancelled(data=data):
            await meeting_service.provider_cancel(session, data.meeting_id, reason=data.reason)
        case MeetingNoShow(data=data):
            await meeting_service.record_no_show(session, data.meeting_id, absent_party=data.absent_party,
                                                 reason=data.reason, today=today, timezone=timezone)
        case MeetingOutcomeReported(data=data):
            await meeting_service.record_outcome(
                session, meeting_id=data.meeting_id, held=data.held, agreement=data.agreement,
                concluded_on=data.concluded_on, resolved_issues=data.resolved_issues,
                unresolved_issues=data.unresolved_issues,
                agreement_items=[i.model_dump() for i in data.agreement_items], today=today)
        case MediatorUpdated(data=data):
            await mediator_service.upsert_mediator(session, provider_id, data)
        case MediatorAvailabilityUpdated(data=data):
            mediator = await mediator_service.get(session, data.mediator_id)
            if mediator.provider_id != provider_id:
                raise mediator_service.MediatorNotFound(f"no mediator {data.mediator_id}")
            await mediator_service.replace_availability(session, data.mediator_id, data)
    return str(meeting_id) if meeting_id is not None else None


def _sender(settings: Any, headers: dict[str, str], body: bytes) -> str:
    """The provider whose secret signed the webhook (constant-time compare, timestamp tolerance)."""
    error: webhooks.InvalidWebhook | None = None
    for provider_id, secrets in settings.webhook_secrets_by_provider().items():
        try:
            webhooks.verify(secrets, headers=headers, body=body)
            return str(provider_id)
        except webhooks.InvalidWebhook as exc:
            error = exc
    raise BadSignature(str(error or "no provider secrets configured"))


_EXAMPLES = {_type_of(model): {
    "summary": model.__doc__.splitlines()[0] if model.__doc__ else None,
    "value": model.model_config["json_schema_extra"]["examples"][0]}  # type: ignore[index]
    for model in WEBHOOK_MODELS}


@router.post(
    "/provider",
    response_model=WebhookAccepted,
    summary="Receive a signed webhook from the mediation provider",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ProviderWebhook"},
        "examples": _EXAMPLES,
    }}}},
    responses={**BadSignature.response(), **MalformedWebhook.response(),
               **InvalidRequest.response("Unknown `type`, or a payload or booking that breaks a rule (R9-R14, R18, "
                                         "R23): `errors` names each field"),
               **meeting_service.MeetingNotFound.response("No such meeting or mediator of this provider, or no "
                                                          "referral for the case"),
               **meeting_service.MeetingAlreadyConcluded.response(
                   "The meeting is no longer scheduled, already has an outcome, or the case is closed; or the "
                   "booking or reschedule would double-book the mediator (`mediator_already_booked`, `errors` "
                   "names `body.data.starts_at`)")},
)
async def receive_provider_webhook(
    request: Request,
    session: SessionDep,
    webhook_id: Annotated[str, Header(alias="webhook-id", max_length=255)],
    webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp")],
    webhook_signature: Annotated[str, Header(alias="webhook-signature")],
) -> WebhookAccepted:
    """Standard Webhooks: HMAC-SHA256 over `webhook-id.webhook-timestamp.body` with the provider's
    `whsec_` secret, compared in constant time; a timestamp more than 5 minutes off is refused.
    A `webhook-id` this provider already sent is acknowledged and changes nothing (each provider has its own ids).
    A change is applied whole or not at all.

    Types: `meeting.booked` (the provider's booking for a referred case, with venue or link, attendees (R12, R14),
    the child's views (R14) and any consent to short notice (R11)), `meeting.rescheduled` and `meeting.cancelled`
    (each with a reason code), `meeting.no_show`, `meeting.outcome_reported` (R15, R18, R19), and the provider's
    mediators: `mediator.updated` (employer for R13, languages, accessibility skills, areas, capacity, conflicts)
    and `mediator.availability_updated` (recurring windows as RRULEs, with exceptions). The signing secret tells
    which provider sent it; a provider changes only its own cases, meetings and mediators.
    """
    body = await request.body()
    settings = request.app.state.runtime.settings
    headers = {"webhook-id": webhook_id, "webhook-timestamp": webhook_timestamp,
               "webhook-signature": webhook_signature}
    provider_id = _sender(settings, headers, body)
    try:
        payload = PROVIDER_WEBHOOK.validate_python(json.loads(body))
    except json.JSONDecodeError as exc:
        raise MalformedWebhook(f"body is not JSON: {exc.msg}") from exc
    except ValidationError as exc:
        errors = field_errors(exc.errors(), prefix=("body",), union_tags=WEBHOOK_TYPES)
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors) from exc

    if await session.get(InboundWebhook, (provider_id, webhook_id)) is not None:
        return WebhookAccepted(status="duplicate", webhook_id=webhook_id)
    session.add(InboundWebhook(provider_id=provider_id, webhook_id=webhook_id, type=payload.type))
    meeting_id = await _apply(session, payload, provider_id=provider_id, timezone=settings.meeting_timezone)
    try:
        await session.commit()
    except IntegrityError:  # the same webhook-id applied concurrently
        await session.rollback()
        return WebhookAccepted(status="duplicate", webhook_id=webhook_id)
    return WebhookAccepted(status="applied", webhook_id=webhook_id, meeting_id=meeting_id)


def provider_webhook_schemas() -> dict[str, Any]:
    """The request body's schema and the models it refers to, for the OpenAPI document's components."""
    schema = PROVIDER_WEBHOOK.json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {**definitions, "ProviderWebhook": schema}
