"""Every event type the system knows: type string -> model and topic."""

from __future__ import annotations

from shared.events.cases import (
    CaseConsentRecordedV1,
    CaseDeadlinesChangedV1,
    CaseDisagreementResolutionRequestedV1,
    CaseHealthReferralV1,
    CaseMediationDeclinedV1,
    CaseReviewResolvedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateFactsMediationDeclinedV1,
    CertificateFactsSubmittedV1,
    ReferralConsentRecordedV1,
    ReferralDeadlinesChangedV1,
    ReferralDisagreementResolutionRequestedV1,
    ReferralMediationDeclinedV1,
    ReferralSubmittedV1,
    ReferralWithdrawnV1,
)
from shared.events.certificates import (
    CertificateDocumentReadyV1,
    CertificateIssuedLateV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReissuedV1,
    CertificateReviewRequestedV1,
    CertificateVoidedV1,
)
from shared.events.envelope import EventData
from shared.events.meetings import (
    MeetingCancelledV1,
    MeetingConcludedV1,
    MeetingDeadlineBreachedV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    MeetingRescheduledV1,
    MeetingScheduledV1,
    ProviderEndpointDisabledV1,
    TimelineMeetingConcludedV1,
    TimelineMeetingScheduledV1,
)
from shared.events.notifications import NotificationAlertRaisedV1, NotificationFailedV1, NotificationSentV1

ALL_EVENTS: tuple[type[EventData], ...] = (
    CaseSubmittedV1,
    CaseMediationDeclinedV1,
    CaseWithdrawnV1,
    CaseDisagreementResolutionRequestedV1,
    CaseConsentRecordedV1,
    CaseHealthReferralV1,
    CaseDeadlinesChangedV1,
    CaseReviewResolvedV1,
    ReferralSubmittedV1,
    ReferralMediationDeclinedV1,
    ReferralWithdrawnV1,
    ReferralDisagreementResolutionRequestedV1,
    ReferralConsentRecordedV1,
    ReferralDeadlinesChangedV1,
    CertificateFactsSubmittedV1,
    CertificateFactsMediationDeclinedV1,
    MeetingScheduledV1,
    MeetingConcludedV1,
    MeetingRescheduledV1,
    MeetingCancelledV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    MeetingDeadlineBreachedV1,
    ProviderEndpointDisabledV1,
    TimelineMeetingScheduledV1,
    TimelineMeetingConcludedV1,
    CertificateIssuedV1,
    CertificateDocumentReadyV1,
    CertificateIssuedLateV1,
    CertificateReissuedV1,
    CertificateVoidedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    NotificationSentV1,
    NotificationFailedV1,
    NotificationAlertRaisedV1,
)

BY_TYPE: dict[str, type[EventData]] = {model.type: model for model in ALL_EVENTS}

TOPICS: tuple[str, ...] = tuple(sorted({model.topic for model in ALL_EVENTS}))


class UnknownEventType(LookupError):
    pass


def model_for(event_type: str) -> type[EventData]:
    try:
        return BY_TYPE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
