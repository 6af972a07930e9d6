"""Every event scheduling subscribes to, and what it does with it.

All of them come on ``intake.referrals`` (so in each case's order): the referral without the names and contact
details of ``intake.cases``, which scheduling never reads.
"""

from scheduling.meeting.handlers import (
    book_disagreement_resolution_once_consented,
    book_meeting_for_case,
    book_when_every_party_has_consented,
    cancel_meeting_for_declined_mediation,
    cancel_meeting_for_withdrawn_case,
    move_deadline_for_case,
)
from shared.events.cases import (
    ReferralConsentRecordedV1,
    ReferralDeadlinesChangedV1,
    ReferralDisagreementResolutionRequestedV1,
    ReferralMediationDeclinedV1,
    ReferralSubmittedV1,
    ReferralWithdrawnV1,
)
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    ReferralSubmittedV1: [book_meeting_for_case],
    ReferralDeadlinesChangedV1: [move_deadline_for_case],
    ReferralWithdrawnV1: [cancel_meeting_for_withdrawn_case],
    ReferralMediationDeclinedV1: [cancel_meeting_for_declined_mediation],
    ReferralDisagreementResolutionRequestedV1: [book_disagreement_resolution_once_consented],
    ReferralConsentRecordedV1: [book_when_every_party_has_consented],
}
