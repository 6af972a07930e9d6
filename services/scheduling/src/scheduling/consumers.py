"""Every event scheduling subscribes to, and what it does with it."""

from scheduling.meeting.handlers import (
    book_disagreement_resolution_once_consented,
    book_meeting_for_case,
    book_when_every_party_has_consented,
    cancel_meeting_for_declined_mediation,
    cancel_meeting_for_withdrawn_case,
    move_deadline_for_case,
)
from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, CaseWithdrawnV1
from shared.events.cases import CaseConsentRecordedV1, CaseDeadlinesChangedV1, CaseDisagreementResolutionRequestedV1
from shared.kafka.consumer import Subscriptions

SUBSCRIPTIONS: Subscriptions = {
    CaseSubmittedV1: [book_meeting_for_case],
    CaseDeadlinesChangedV1: [move_deadline_for_case],
    CaseWithdrawnV1: [cancel_meeting_for_withdrawn_case],
    CaseMediationDeclinedV1: [cancel_meeting_for_declined_mediation],
    CaseDisagreementResolutionRequestedV1: [book_disagreement_resolution_once_consented],
    CaseConsentRecordedV1: [book_when_every_party_has_consented],
}
