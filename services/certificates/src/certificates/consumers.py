"""Every event certificates subscribes to, and what it does with it.

The case's facts come on ``intake.certificate-facts`` (the requester's name, which a certificate prints, and no
contact details); the meetings on ``scheduling.meetings``.
"""

from certificates.certificate import handlers
from shared.events import MeetingConcludedV1
from shared.events.cases import CertificateFactsMediationDeclinedV1, CertificateFactsSubmittedV1
from shared.events.meetings import MeetingDeadlineMissedV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CertificateFactsSubmittedV1: [handlers.keep_case_facts],
    CertificateFactsMediationDeclinedV1: [handlers.keep_case_facts, handlers.request_adviser_certificate],
    MeetingConcludedV1: [handlers.request_mediator_certificate],
    MeetingDeadlineMissedV1: [handlers.request_missed_deadline_certificate],
}
