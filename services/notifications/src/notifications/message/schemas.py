from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from notifications.message.models import MessageStatus


class MessageRead(BaseModel):
    """A delivery-log entry; the recipient appears by role, never by address."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    case_id: str
    template: str
    recipient_role: str
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class MessagePage(BaseModel):
    items: list[MessageRead]
