"""Every table scheduling owns (imported by migrations/env.py)."""

from scheduling.mediator.models import Mediator, MediatorAvailability, MediatorUnavailability
from scheduling.meeting.models import DisagreementResolutionRequest, InboundWebhook, Meeting, MeetingChange, Referral
from scheduling.outbound.models import WebhookEndpoint, WebhookMessage
from shared.deadletters import DeadLetter
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure

__all__ = [
    "DeadLetter",
    "DisagreementResolutionRequest",
    "InboundWebhook",
    "InboxEvent", "ItemFailure",
    "Mediator",
    "MediatorAvailability",
    "MediatorUnavailability",
    "Meeting",
    "MeetingChange",
    "OutboxEvent",
    "Referral",
    "WebhookEndpoint",
    "WebhookMessage",
]
