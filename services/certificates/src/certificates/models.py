"""Every table certificates owns (imported by migrations/env.py)."""

from certificates.certificate.models import CaseRecord, Certificate, Review, VerificationAttempt
from shared.deadletters import DeadLetter
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure

__all__ = ["CaseRecord", "Certificate", "DeadLetter", "InboxEvent", "ItemFailure", "OutboxEvent", "Review",
           "VerificationAttempt"]
