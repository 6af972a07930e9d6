from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import InboundWebhook
from scheduling.webhook.schemas import MeetingOutcomeReported, WebhookAccepted
from shared import webhooks
from shared.deps import SessionDep
from shared.errors import FieldError, InvalidRequest, ServiceError, Unauthorized

router = APIRouter(prefix="/v1/webhooks", tags=["provider webhooks"])


class BadSignature(Unauthorized):
    code = "invalid_webhook_signature"
    title = "Webhook signature, timestamp or headers do not verify"


class MalformedWebhook(ServiceError):
    status = 400
    code = "malformed_webhook"
    title = "Webhook body is not valid JSON"


@router.post(
    "/provider",
    response_model=WebhookAccepted,
    summary="Receive a signed webhook from the mediation provider",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": MeetingOutcomeReported.model_json_schema(ref_template="#/components/schemas/{model}"),
        "example": MeetingOutcomeReported.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
    }}}},
    responses={**BadSignature.response(), **MalformedWebhook.response(), **InvalidRequest.response(),
               **meeting_service.MeetingNotFound.response(), **meeting_service.MeetingAlreadyConcluded.response()},
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
    A `webhook-id` already applied is acknowledged and changes nothing. A change is applied whole or not at all.
    """
    body = await request.body()
    settings = request.app.state.runtime.settings
    headers = {"webhook-id": webhook_id, "webhook-timestamp": webhook_timestamp,
               "webhook-signature": webhook_signature}
    try:
        webhooks.verify(settings.provider_webhook_secrets, headers=headers, body=body)
    except webhooks.InvalidWebhook as exc:
        raise BadSignature(str(exc)) from exc
    try:
        payload = MeetingOutcomeReported.model_validate(json.loads(body))
    except json.JSONDecodeError as exc:
        raise MalformedWebhook(f"body is not JSON: {exc.msg}") from exc
    except ValidationError as exc:
        errors = [FieldError(field=".".join(["body", *map(str, e["loc"])]), reason=e["msg"]) for e in exc.errors()]
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors) from exc

    if await session.get(InboundWebhook, webhook_id) is not None:
        return WebhookAccepted(status="duplicate", webhook_id=webhook_id)
    session.add(InboundWebhook(webhook_id=webhook_id, type=payload.type))
    data = payload.data
    await meeting_service.record_outcome(
        session, meeting_id=data.meeting_id, held=data.held, agreement=data.agreement,
        concluded_on=data.concluded_on, resolved_issues=data.resolved_issues,
        unresolved_issues=data.unresolved_issues, agreement_items=[i.model_dump() for i in data.agreement_items])
    try:
        await session.commit()
    except IntegrityError:  # the same webhook-id applied concurrently
        await session.rollback()
        return WebhookAccepted(status="duplicate", webhook_id=webhook_id)
    return WebhookAccepted(status="applied", webhook_id=webhook_id)
