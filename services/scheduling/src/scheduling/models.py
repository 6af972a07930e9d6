"""Every table scheduling owns (imported by migrations/env.py)."""

from scheduling.meeting.models import DisagreementResolutionRequest, InboundWebhook, Mediator, Meeting
from scheduling.outbound.models import WebhookEndpoint, WebhookMessage
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent

__all__ = [
    "DisagreementResolutionRequest",
    "InboundWebhook", "InboxEvent", "Mediator", "Meeting", "OutboxEvent", "WebhookEndpoint", "WebhookMessage"]
