"""Events owned by intake, on the topic ``intake.cases``."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData, OptionalPersonal, Personal

TOPIC = "intake.cases"
#: R8's notice to the health commissioning bodies, which carries the mediation issues: on its own topic, so
#: that only notifications (which sends it) reads them.
HEALTH_REFERRALS_TOPIC = "intake.health-referrals"

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

    Contact details are personal data: notifications needs the email,
    certificates needs the name. They are never logged.
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

    Scheduling refers the case to the LA's provider and books a meeting;
    notifications acknowledges receipt; certificates keeps the facts it will
    print on the mediator certificate.
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

    Certificates issues the adviser certificate (due within 3 working days, R6);
    notifications acknowledges receipt.
    """

    type: ClassVar[str] = "case.mediation_declined.v1"
    topic: ClassVar[str] = TOPIC

    told_adviser_on: date
    certificate_due_on: date
    late_contact: bool = False


class CaseWithdrawnV1(EventData):
    """The parent or young person withdrew the case: nothing further is to be arranged or issued.

    Scheduling cancels any meeting; notifications stops reminders.
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

    Scheduling moves the referral's ``mediate_by`` and the last bookable working day (R9), and
    re-reckons whether a booked meeting is late.
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
