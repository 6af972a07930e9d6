from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from notifications.message import service as message_service
from notifications.message.catalogue import TEMPLATES
from notifications.message.models import MessageStatus
from notifications.message.schemas import MessageDetail, MessagePage, MessageRead
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deps import SessionDep

router = APIRouter(prefix="/v1/messages", tags=["delivery log"])
OpsReader = Annotated[ApiClient, Depends(require_scope("ops:read"))]
OpsWriter = Annotated[ApiClient, Depends(require_scope("ops:write"))]


TemplateName = Enum("TemplateName", {name: name for name in sorted(TEMPLATES)}, type=str)  # type: ignore[misc]


@router.get("", response_model=MessagePage, summary="The delivery log, newest first", responses=AUTH_RESPONSES)
async def list_messages(
    session: SessionDep, _: OpsReader, case_id: str | None = None, status: MessageStatus | None = None,
    template: Annotated[TemplateName | None, Query(description="Only messages from this template")] = None,
    recipient_role: Annotated[str | None, Query(max_length=32, description="Only messages to this role")] = None,
    deadline_bound: Annotated[bool | None, Query(
        description="Only messages tied (true) or not tied (false) to a statutory deadline")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MessagePage:
    """Failed deadline-bound messages (``status=failed&deadline_bound=true``) need someone to contact the family."""
    messages = await message_service.list_messages(
        session, case_id=case_id, status=status, limit=limit, template=template.value if template else None,
        recipient_role=recipient_role, deadline_bound=deadline_bound)
    return MessagePage(items=[MessageRead.from_message(m) for m in messages])


@router.get("/{message_id}", response_model=MessageDetail, summary="One message and its delivery attempts",
            responses={**AUTH_RESPONSES, **message_service.MessageNotFound.response()})
async def get_message(message_id: str, session: SessionDep, _: OpsReader) -> MessageDetail:
    """Each SMTP attempt: when, delivered / temporary_failure / permanent_failure, and the server's code and reply."""
    message = await message_service.get_message(session, message_id)
    return MessageDetail.with_attempts(message, await message_service.attempts_of(session, message_id))


@router.post("/{message_id}/resend", response_model=MessageRead, status_code=202,
             summary="Send a message again, under the same Message-ID",
             responses={**AUTH_RESPONSES, **message_service.MessageNotFound.response()})
async def resend_message(message_id: str, session: SessionDep, _: OpsWriter) -> MessageRead:
    message = await message_service.resend(session, message_id)
    await session.commit()
    return MessageRead.from_message(message)
