"""Events owned by intake: the case on ``intake.cases`` (with the contact details, for notifications), and one
topic per audience that needs less (data minimisation: a service receives only the personal data it uses):

- ``intake.referrals``: the referral as scheduling books it (ids, dates, needs, roles and consents; no names or
  contact details). Every event scheduling handles about a case comes on it, in the case's order.
- ``intake.certificate-facts``: the facts a certificate prints (the requester's name, not their email).
- ``intake.health-referrals``: R8's notice, with the mediation issues, for notifications alone.

Intake writes each projection in the same transaction (outbox) as the case event it mirrors, keyed by case id.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData, OptionalPersonal, Personal

TOPIC = "intake.cases"
#: R8's notice to the health commissioning bodies, which carries the mediation issues: on its own topic, so
#: that only notifications (which sends it) reads them.
HEALTH_REFERRALS_TOPIC = "intake.health-referrals"
#: The referral as scheduling needs it: no names, no contact details.
REFERRALS_TOPIC = "intake.referrals"
#: The case facts certificates prints: the requester's name, no contact details.
CERTIFICATE_FACTS_TOPIC = "intake.certificate-facts"

DecisionKind = Literal[
    "refusal_to_assess",
    "refusal_to_issue_plan",
    "plan_contents",
    "refusal_to_reassess",
    "refusal_to_amend",
    "cease_plan",
]


class Party(BaseModel):
    """The parent or young person, as far as consumers need them.

    Contact details are personal data, for notifications (the one reader of
    ``intake.cases``); certificates reads the name from its own copy
    (``NamedRequester``). They are never logged.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["parent", "young_person"]
    name: Personal
    email: Personal


class CaseFacts(EventData):
    case_id: str
    reference: str
    la_code: str
    decision: DecisionKind
    notice_sent_on: date
    requester: Party


class CaseSubmittedV1(CaseFacts):
    """A parent or young person asked for mediation about an appealable decision.

    Notifications acknowledges receipt. Scheduling reads the same case as
    ``referral.submitted`` and certificates as ``certificate_facts.submitted``,
    without the contact details they do not use.
    """

    type: ClassVar[str] = "case.submitted.v1"
    topic: ClassVar[str] = TOPIC

    mediate_by: date
    health_issues: bool = False
    health_only: bool = False
    arranging_body: Literal["local_authority", "health_commissioning_body"] = "local_authority"
    #: Needs the mediator must meet (scheduling's assignment): languages as BCP 47 tags (``pl``, ``bfi`` for
    #: BSL), accessibility needs as short codes (``step_free_access``, ``hearing_loop``...).
    languages: tuple[str, ...] = ()
    accessibility_needs: tuple[str, ...] = ()
    #: The school or setting in the case (its URN), for scheduling's conflict-of-interest check.
    school_urn: str | None = None
    late_contact: bool = False


class CaseMediationDeclinedV1(CaseFacts):
    """The parent or young person told the adviser they do not want mediation.

    Notifications acknowledges receipt. Certificates issues the adviser certificate
    (due within 3 working days, R6) on ``certificate_facts.mediation_declined``;
    scheduling cancels any meeting on ``referral.mediation_declined``.
    """

    type: ClassVar[str] = "case.mediation_declined.v1"
    topic: ClassVar[str] = TOPIC

    told_adviser_on: date
    certificate_due_on: date
    late_contact: bool = False


class CaseWithdrawnV1(EventData):
    """The parent or young person withdrew the case: nothing further is to be arranged or issued.

    Notifications stops reminders; scheduling cancels any meeting on ``referral.withdrawn``.
    """

    type: ClassVar[str] = "case.withdrawn.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    la_code: str
    withdrawn_on: date
    reason: Literal["no_longer_disputed", "appeal_not_pursued", "resolved_otherwise", "other"]


class DrPartyFact(BaseModel):
    """A party to disagreement resolution. Name and email are for notifications only."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: str
    name: Personal
    email: OptionalPersonal = None
    consented: bool


class CaseDisagreementResolutionRequestedV1(EventData):
    """Disagreement resolution was requested (R21). No certificate, no Tribunal clock.

    A meeting may be booked only once every party has consented (`all_consented`);
    a type-4 case (LA and health commissioning body) has no parent or young person party.
    """

    type: ClassVar[str] = "case.disagreement_resolution_requested.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    reference: str
    la_code: str
    dr_type: Literal[1, 2, 3, 4]
    parties: tuple[DrPartyFact, ...]
    all_consented: bool


class CaseConsentRecordedV1(EventData):
    """A party's consent to disagreement resolution was recorded (R21)."""

    type: ClassVar[str] = "case.consent_recorded.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    role: str
    consented_on: date
    all_consented: bool
    missing: tuple[str, ...] = ()


class CaseDeadlinesChangedV1(EventData):
    """A statutory date of an open mediation moved because its trigger changed, e.g. the LA reported the
    day its notice actually went to the health commissioning body, from which a health-only mediation's
    30 days run (R8).

    Notifications moves its deadline alerts; scheduling, on ``referral.deadlines_changed``, moves the
    referral's ``mediate_by`` and the last bookable working day (R9), and re-reckons whether a booked
    meeting is late.
    """

    type: ClassVar[str] = "case.deadlines_changed.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    la_code: str
    mediate_by: date
    #: R9: the last working day on or before ``mediate_by``.
    last_bookable_day: date
    trigger: Literal["health_notice_sent_on", "told_on"]
    trigger_date: date


class CaseReviewResolvedV1(EventData):
    """A person decided a human review of the case, e.g. contact with the adviser after the 2-month window
    (R4, ``kind`` ``late_contact``): ``accepted`` (go ahead) or ``refused`` (out of time). The reason stays
    in intake.
    """

    type: ClassVar[str] = "case.review_resolved.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    la_code: str
    review_id: str
    kind: Literal["late_contact"]
    decision: Literal["accepted", "refused"]
    resolved_on: date


class CaseHealthReferralV1(EventData):
    """R8: a mediation with health issues. Within 3 working days (``tell_by``) the LA gives each responsible
    health commissioning body the mediation issues and the health care provision wanted.

    On its own topic (``intake.health-referrals``) because it carries the issues in the family's words: only
    notifications reads it, to send the notice. The issues never appear in logs.
    """

    type: ClassVar[str] = "case.health_referral.v1"
    topic: ClassVar[str] = HEALTH_REFERRALS_TOPIC

    case_id: str
    reference: str
    la_code: str
    health_only: bool
    mediate_by: date
    tell_by: date
    mediation_issues: tuple[str, ...] = Field(repr=False)
    health_provision_wanted: OptionalPersonal = None


# --- intake.referrals: scheduling's view, without names or contact details ---------------------------------


class ReferralSubmittedV1(EventData):
    """``case.submitted`` as scheduling needs it: refer the case to the LA's provider and book a meeting with a
    mediator who meets its needs (R8, R9, R11, R13)."""

    type: ClassVar[str] = "referral.submitted.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    reference: str
    la_code: str
    mediate_by: date
    health_issues: bool = False
    arranging_body: Literal["local_authority", "health_commissioning_body"] = "local_authority"
    #: As on ``case.submitted``: BCP 47 language tags, accessibility codes, the school's URN.
    languages: tuple[str, ...] = ()
    accessibility_needs: tuple[str, ...] = ()
    school_urn: str | None = None


class ReferralMediationDeclinedV1(EventData):
    """``case.mediation_declined`` for scheduling: any meeting of the case is cancelled."""

    type: ClassVar[str] = "referral.mediation_declined.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    la_code: str


class ReferralWithdrawnV1(EventData):
    """``case.withdrawn`` for scheduling: any meeting of the case is cancelled."""

    type: ClassVar[str] = "referral.withdrawn.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    la_code: str
    withdrawn_on: date


class ReferralParty(BaseModel):
    """A party to disagreement resolution as scheduling needs it: the role and whether they consented."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: str
    consented: bool


class ReferralDisagreementResolutionRequestedV1(EventData):
    """``case.disagreement_resolution_requested`` for scheduling: booked once every party consented (R21)."""

    type: ClassVar[str] = "referral.disagreement_resolution_requested.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    reference: str
    la_code: str
    dr_type: Literal[1, 2, 3, 4]
    parties: tuple[ReferralParty, ...]
    all_consented: bool


class ReferralConsentRecordedV1(EventData):
    """``case.consent_recorded`` for scheduling (R21): ``missing`` names the roles still to consent."""

    type: ClassVar[str] = "referral.consent_recorded.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    role: str
    consented_on: date
    all_consented: bool
    missing: tuple[str, ...] = ()


class ReferralDeadlinesChangedV1(EventData):
    """``case.deadlines_changed`` for scheduling: the referral's new ``mediate_by`` and last bookable day (R8, R9)."""

    type: ClassVar[str] = "referral.deadlines_changed.v1"
    topic: ClassVar[str] = REFERRALS_TOPIC

    case_id: str
    la_code: str
    mediate_by: date
    last_bookable_day: date


# --- intake.certificate-facts: what a certificate prints, without contact details ---------------------------


class NamedRequester(BaseModel):
    """The parent or young person as a certificate names them: no contact details. Never logged."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["parent", "young_person"]
    name: Personal


class CertificateFacts(EventData):
    case_id: str
    reference: str
    la_code: str
    decision: DecisionKind
    notice_sent_on: date
    requester: NamedRequester
    #: R4: contact after the 2-month window; certificates holds back for a person's review.
    late_contact: bool = False


class CertificateFactsSubmittedV1(CertificateFacts):
    """``case.submitted`` for certificates: the facts the mediator certificate will print (R15), and whether
    one is due at all (none for a health-only case, R2)."""

    type: ClassVar[str] = "certificate_facts.submitted.v1"
    topic: ClassVar[str] = CERTIFICATE_FACTS_TOPIC

    health_only: bool = False


class CertificateFactsMediationDeclinedV1(CertificateFacts):
    """``case.mediation_declined`` for certificates: the adviser certificate is due within 3 working days (R6)."""

    type: ClassVar[str] = "certificate_facts.mediation_declined.v1"
    topic: ClassVar[str] = CERTIFICATE_FACTS_TOPIC

    told_adviser_on: date
    certificate_due_on: date
