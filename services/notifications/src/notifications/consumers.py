"""Every event notifications subscribes to, and what it does with it (message/catalogue.py says who gets what)."""

from notifications.message import handlers
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateDocumentReadyV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    MeetingConcludedV1,
    MeetingScheduledV1,
)
from shared.events.cases import CaseDeadlinesChangedV1, CaseDisagreementResolutionRequestedV1, CaseHealthReferralV1
from shared.events.meetings import (
    MeetingCancelledV1,
    MeetingDeadlineBreachedV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    MeetingRescheduledV1,
    ProviderEndpointDisabledV1,
)
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [handlers.acknowledge_request],
    CaseHealthReferralV1: [handlers.notify_health_bodies],
    CaseDeadlinesChangedV1: [handlers.move_deadline_alerts],
    CaseMediationDeclinedV1: [handlers.acknowledge_decline],
    CaseWithdrawnV1: [handlers.note_withdrawal],
    CaseDisagreementResolutionRequestedV1: [handlers.remember_disagreement_resolution_parties],
    MeetingScheduledV1: [handlers.invite_to_meeting],
    MeetingRescheduledV1: [handlers.update_meeting_invitation],
    MeetingCancelledV1: [handlers.cancel_meeting_invitation],
    MeetingConcludedV1: [handlers.note_meeting_concluded],
    MeetingNoShowV1: [handlers.note_no_show],
    MeetingDeadlineMissedV1: [handlers.note_deadline_missed],
    MeetingDeadlineBreachedV1: [handlers.raise_deadline_breach],
    CertificateDocumentReadyV1: [handlers.send_certificate],
    CertificateIssuedV1: [handlers.stop_certificate_reminders],
    CertificateNotRequiredV1: [handlers.stop_certificate_reminders],
    CertificateReviewRequestedV1: [handlers.stop_certificate_reminders],
    ProviderEndpointDisabledV1: [handlers.alert_endpoint_disabled],
}
