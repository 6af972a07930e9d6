"""Every table scheduling owns (imported by migrations/env.py)."""

from scheduling.meeting.models import InboundWebhook, Mediator, Meeting
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent

__all__ = ["InboundWebhook", "InboxEvent", "Mediator", "Meeting", "OutboxEvent"]
