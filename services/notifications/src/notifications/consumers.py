"""Every event notifications subscribes to, and what it does with it."""

from notifications.message import handlers
from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, CertificateDocumentReadyV1, MeetingScheduledV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [handlers.acknowledge_request],
    CaseMediationDeclinedV1: [handlers.acknowledge_decline],
    MeetingScheduledV1: [handlers.invite_to_meeting],
    CertificateDocumentReadyV1: [handlers.send_certificate],
}
