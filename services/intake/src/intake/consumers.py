"""Every event intake subscribes to, and what it does with it."""

from intake.timeline import handlers as timeline
from shared.events import (
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    NotificationFailedV1,
    NotificationSentV1,
)
from shared.events.meetings import TimelineMeetingConcludedV1, TimelineMeetingScheduledV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    # scheduling.timeline: the meeting steps without the mediator's contact details
    TimelineMeetingScheduledV1: [timeline.add_meeting_scheduled],
    TimelineMeetingConcludedV1: [timeline.add_meeting_concluded],
    CertificateIssuedV1: [timeline.add_certificate_issued],
    CertificateNotRequiredV1: [timeline.add_certificate_not_required],
    CertificateReviewRequestedV1: [timeline.add_certificate_review_requested],
    NotificationSentV1: [timeline.add_notification_sent],
    NotificationFailedV1: [timeline.add_notification_failed],
}
