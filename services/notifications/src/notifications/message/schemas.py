from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from notifications.message.catalogue import TEMPLATES
from notifications.message.models import AttemptOutcome, Message, MessageAttempt, MessageStatus


class MessageRead(BaseModel):
    """A delivery-log entry; the recipient appears by role, never by address."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    case_id: str
    template: str
    recipient_role: str
    recipient_ref: str | None = None
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


class AttemptRead(BaseModel):
    """One SMTP attempt: the server's code and short reply, never the body or the address."""

    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: datetime
    outcome: AttemptOutcome
    smtp_code: int | None
    reply: str | None


class MessageDetail(MessageRead):
    """A delivery-log entry with every SMTP attempt, oldest first (a resend adds to the same history)."""

    delivery_attempts: list[AttemptRead]

    @classmethod
    def with_attempts(cls, message: Message, attempts: list[MessageAttempt]) -> MessageDetail:
        read = MessageRead.from_message(message)
        return cls(**read.model_dump(), delivery_attempts=[AttemptRead.model_validate(a) for a in attempts])
