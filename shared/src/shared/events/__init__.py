from shared.events.cases import CaseMediationDeclinedV1, CaseSubmittedV1, CaseWithdrawnV1, Party
from shared.events.certificates import (
    CertificateDocumentReadyV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
)
from shared.events.envelope import Envelope, EventData, Personal
from shared.events.meetings import MeetingConcludedV1, MeetingScheduledV1
from shared.events.notifications import NotificationFailedV1, NotificationSentV1

__all__ = [
    "CaseMediationDeclinedV1",
    "CaseSubmittedV1",
    "CaseWithdrawnV1",
    "CertificateDocumentReadyV1",
    "CertificateIssuedV1",
    "CertificateNotRequiredV1",
    "CertificateReviewRequestedV1",
    "Envelope",
    "EventData",
    "MeetingConcludedV1",
    "MeetingScheduledV1",
    "NotificationFailedV1",
    "NotificationSentV1",
    "Party",
    "Personal",
]
