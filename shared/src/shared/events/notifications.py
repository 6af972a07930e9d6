"""Events owned by notifications, on the topic ``notifications.messages``.

They carry message ids and the recipient's role, never an address.
"""

from __future__ import annotations

from typing import ClassVar, Literal

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


class NotificationAlertRaisedV1(EventData):
    """Operations must act: a message tied to a statutory deadline could not be delivered.

    Raised when a deadline-bound email (a meeting invitation, a certificate)
    fails permanently, so that someone contacts the recipient another way.
    Carries ids and the recipient's role only, never an address.
    """

    type: ClassVar[str] = "notification.alert_raised.v1"
    topic: ClassVar[str] = TOPIC

    alert_id: str
    kind: Literal["deadline_message_failed"]
    message_id: str
    case_id: str
    template: str
    recipient_role: str
    reason: str
