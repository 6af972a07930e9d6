"""Every event certificates subscribes to, and what it does with it."""

from certificates.certificate import handlers
from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, MeetingConcludedV1
from shared.events.meetings import MeetingDeadlineMissedV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [handlers.keep_case_facts],
    CaseMediationDeclinedV1: [handlers.keep_case_facts, handlers.request_adviser_certificate],
    MeetingConcludedV1: [handlers.request_mediator_certificate],
    MeetingDeadlineMissedV1: [handlers.request_missed_deadline_certificate],
}
