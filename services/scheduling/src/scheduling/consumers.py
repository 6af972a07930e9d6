"""Every event scheduling subscribes to, and what it does with it."""

from scheduling.meeting.handlers import book_meeting_for_case
from shared.events import CaseSubmittedV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [book_meeting_for_case],
}
