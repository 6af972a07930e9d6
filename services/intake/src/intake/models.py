"""Every table intake owns (imported by migrations/env.py)."""

from intake.case.models import Case, IdempotencyRecord
from intake.review.models import Review
from intake.timeline.models import TimelineEntry
from shared.deadletters import DeadLetter
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure

__all__ = ["Case", "DeadLetter", "IdempotencyRecord", "InboxEvent", "ItemFailure", "OutboxEvent", "Review", "TimelineEntry"]
