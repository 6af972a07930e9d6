from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from notifications.message.catalogue import TEMPLATES
from notifications.message.models import Message, MessageStatus


class MessageRead(BaseModel):
    """A delivery-log entry; the recipient appears by role, never by address."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    case_id: str
    template: str
    recipient_role: str
    deadline_bound: bool = False
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_message(cls, message: Message) -> MessageRead:
        spec = TEMPLATES.get(message.template)
        return cls.model_validate(message).model_copy(update={"deadline_bound": bool(spec and spec.deadline_bound)})


class MessagePage(BaseModel):
    items: list[MessageRead]
