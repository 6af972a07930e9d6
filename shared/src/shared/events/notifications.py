"""Events owned by notifications, on the topic ``notifications.messages``.

They carry message ids and the recipient's role, never an address.
"""

from __future__ import annotations

from typing import ClassVar

from shared.events.envelope import EventData

TOPIC = "notifications.messages"


class NotificationSentV1(EventData):
    """An email was accepted by the SMTP relay."""

    type: ClassVar[str] = "notification.sent.v1"
    topic: ClassVar[str] = TOPIC

    message_id: str
    case_id: str
    template: str
    recipient_role: str


class NotificationFailedV1(EventData):
    """An email failed permanently (SMTP 5xx) and will not be retried."""

    type: ClassVar[str] = "notification.failed.v1"
    topic: ClassVar[str] = TOPIC

    message_id: str
    case_id: str
    template: str
    recipient_role: str
    reason: str
