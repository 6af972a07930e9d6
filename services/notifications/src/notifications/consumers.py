"""Every event notifications subscribes to, and what it does with it."""

from notifications.message import handlers
from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, CertificateDocumentReadyV1, MeetingScheduledV1
from shared.events.cases import CaseDisagreementResolutionRequestedV1
from shared.events.meetings import MeetingCancelledV1, MeetingRescheduledV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [handlers.acknowledge_request],
    CaseMediationDeclinedV1: [handlers.acknowledge_decline],
    CaseDisagreementResolutionRequestedV1: [handlers.remember_disagreement_resolution_parties],
    MeetingScheduledV1: [handlers.invite_to_meeting],
    MeetingRescheduledV1: [handlers.update_meeting_invitation],
    MeetingCancelledV1: [handlers.cancel_meeting_invitation],
    CertificateDocumentReadyV1: [handlers.send_certificate],
}
