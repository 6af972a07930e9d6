"""Every table notifications owns (imported by migrations/env.py)."""

from notifications.meeting.models import MeetingInvitation
from notifications.message.models import CaseAudience, Message, MessageAttempt, Recipient
from notifications.reminder.models import Reminder, ReminderCancellation
from shared.deadletters import DeadLetter
from shared.inbox import InboxEvent
from shared.outbox import OutboxEvent
from shared.poison import ItemFailure

__all__ = ["CaseAudience", "DeadLetter", "InboxEvent", "ItemFailure", "MeetingInvitation", "Message", "MessageAttempt", "OutboxEvent",
           "Recipient", "Reminder", "ReminderCancellation"]
