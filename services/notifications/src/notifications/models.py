"""Every table notifications owns (imported by migrations/env.py)."""

from notifications.message.models import Message, Recipient
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent

__all__ = ["InboxEvent", "Message", "OutboxEvent", "Recipient"]
