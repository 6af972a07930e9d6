"""The council portal's contract for cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake.case.models import ArrangingBody, CaseKind, CaseStatus
from intake.case.rules import AppealMatter
from intake.review.models import ReviewDecision, ReviewKind, ReviewStatus
from shared.errors import cross_field_error
from shared.events.cases import DecisionKind
from shared.limits import (
    ISSUES_MAX,
    BirthDate,
    Bool,
    Email,
    EventDate,
    FreeText,
    Issue,
    Name,
)

EXAMPLE_CASE: dict[str, Any] = {
    "kind": "mediation",
    "decision": "refusal_to_assess",
    "decision_date": "2026-11-02",
    "notice_sent_on": "2026-11-03",
    "told_on": "2026-11-20",
    "requester": {"role": "parent", "name": "Alex Example", "email": "alex@example.org"},
    "child": {"name": "Sam Example", "date_of_birth": "2015-06-01"},
    "mediation_issues": ["The refusal to carry out an EHC needs assessment"],
    "health_issues": False,
}


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["parent", "young_person"]
    name: Name
    email: Email


class Child(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    date_of_birth: BirthDate


class MeetingNeeds(BaseModel):
    """What the mediator must be able to meet, and who they must have no conflict with (scheduling's assignment)."""

    model_config = ConfigDict(extra="forbid")

    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]] = Field(
        default_factory=list, max_length=5,
        description="Languages the meeting must be held in besides English, as BCP 47 tags (`pl`; `bfi` for BSL)")
    accessibility_needs: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] = Field(
        default_factory=list, max_length=10,
        description="Short codes, e.g. `step_free_access`, `hearing_loop`, `bsl`, `easy_read`, `autism_aware`")
    school_urn: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$",
                                   description="The URN of the child's school or setting, for conflict-of-interest checks")


class MediationCreate(BaseModel):
    """A request for mediation, or the news that the parent or young person declines it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_CASE]})

    kind: Literal[CaseKind.mediation, CaseKind.mediation_declined] = Field(
        description="`mediation` (R7) or `mediation_declined` (R6)")
    decision: DecisionKind = Field(description="The appealable decision in dispute (R2)")
    decision_date: EventDate
    notice_sent_on: EventDate = Field(description="The date the written notice of the decision was sent (T6)")
    told_on: EventDate = Field(description="The date the LA (mediation) or the adviser (decline) was told")
    adviser_contacted_on: EventDate | None = Field(
        default=None, description="R4: the date the parent or young person first contacted the mediation adviser; "
                                  "default `told_on`. After notice_sent_on + 2 months it is late contact: a human "
                                  "review, never an automatic certificate")
    requester: Requester
    child: Child
    mediation_issues: list[Issue] = Field(default_factory=list, max_length=ISSUES_MAX,
                                        description="Required for mediation (R7)")
    health_issues: Bool = Field(default=False, description="Any health care issue in the mediation (R8)")
    health_only: Bool = Field(default=False, description="Only health issues: the commissioning body arranges (R8)")
    health_provision_wanted: FreeText | None = Field(
        default=None,
        description="R7/R8: the health care provision wanted, when it is missing from the plan; given to each health "
                    "commissioning body with the mediation issues")
    health_notice_sent_on: EventDate | None = Field(
        default=None, description="R8: the day the LA's notice already went to the health commissioning bodies, if "
                                  "before today; default today (the system sends it on submission). A health-only "
                                  "mediation's 30 days run from it. Not before told_on, not in the future")
    meeting_needs: MeetingNeeds = Field(default_factory=MeetingNeeds,
                                        description="Language, accessibility and conflict-of-interest needs for the meeting")

    @model_validator(mode="after")
    def _mediation_names_its_issues(self) -> MediationCreate:
        if self.kind is CaseKind.mediation and not any(issue.strip() for issue in self.mediation_issues):
            raise cross_field_error("mediation_issues", "a mediation request must name at least one issue (R7)")
        if self.health_only and not self.health_issues:
            raise cross_field_error("health_only", "a health-only mediation must have health_issues true (R8)")
        if self.health_provision_wanted and not self.health_issues:
            raise cross_field_error("health_provision_wanted", "only a mediation with health_issues true names "
                                                               "health care provision (R7)")
        if self.health_notice_sent_on and not (self.health_issues and self.kind is CaseKind.mediation):
            raise cross_field_error("health_notice_sent_on", "only a mediation with health_issues true has a notice "
                                                             "to the health commissioning bodies (R8)")
        return self


DrRole = Literal[
    "parent", "young_person", "local_authority", "governing_body", "early_years_provider", "school",
    "post_16_institution", "academy_proprietor", "icb", "nhs_england",
]

EXAMPLE_DR: dict[str, Any] = {
    "kind": "disagreement_resolution",
    "dr_type": 2,
    "summary": "How the school delivers the speech and language support",
    "parties": [
        {"role": "parent", "name": "Alex Example", "email": "alex@example.org", "consented_on": "2026-11-20"},
        {"role": "school", "name": "Example Primary School", "email": "office@example-primary.sch.uk"},
    ],
    "child": {"name": "Sam Example", "date_of_birth": "2015-06-01"},
}


class DrParty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: DrRole
    name: Name = Field(description="A person or an organisation")
    email: Email | None = None
    consented_on: EventDate | None = Field(default=None, description="R21: when this party's consent was recorded")


class DisagreementResolutionCreate(BaseModel):
    """A request for disagreement resolution (R21): voluntary, no certificate, no Tribunal clock."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_DR]})

    kind: Literal[CaseKind.disagreement_resolution]
    dr_type: Literal[1, 2, 3, 4] = Field(description="R21: 1 parent vs LA/setting on SEN duties; 2 parent vs setting "
                                                      "on provision; 3 parent vs ICB/LA on health or social care; "
                                                      "4 LA vs health commissioning body (no parent party)")
    summary: FreeText = Field(description="What the disagreement is about")
    parties: list[DrParty] = Field(min_length=2, max_length=10)
    child: Child | None = Field(default=None, description="Required for types 1-3")
    told_on: EventDate | None = Field(default=None, description="The day the LA received the request; default today")


CaseCreate = Annotated[MediationCreate | DisagreementResolutionCreate, Field(discriminator="kind")]


class ConsentRecord(BaseModel):
    """R21: a party's consent to disagreement resolution."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "role": "school", "consented_on": "2026-11-24"}]})

    role: DrRole
    consented_on: EventDate


class DrPartyRead(BaseModel):
    role: str
    name: str
    consented_on: date | None


class TimelineEntryRead(BaseModel):
    kind: str = Field(examples=["meeting_scheduled"])
    occurred_at: datetime
    summary: str
    reference: str | None = Field(default=None, description="Id of the meeting, certificate or message")


Day = date  # `date` is also a field name below


class DeadlineRead(BaseModel):
    """A statutory date explained: the rule, the trigger and the steps taken."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "name": "appeal_deadline", "rule": "R17", "date": "2027-03-16", "trigger": "notice_sent_on",
        "trigger_date": "2027-01-15", "steps": [
            "notice sent Fri 15 Jan 2027 + 2 months = Mon 15 Mar 2027",
            "received by the Tribunal by 5pm (HESC 12(1))"]}]})

    name: str = Field(description="contact_window_ends_on, mediate_by, last_bookable_day, latest_notice_day, "
                                  "health_bodies_told_by, certificate_due_on or appeal_deadline")
    rule: str = Field(examples=["R17"])
    date: Day | None = Field(description="None when the rule gives no date (R2: health-only, no appeal)")
    trigger: str | None = Field(description="The case field the date runs from", examples=["notice_sent_on"])
    trigger_date: Day | None
    steps: list[str]


class ReviewRead(BaseModel):
    """A decision for a person (the LA or operations), never the system: e.g. late contact (R4)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    la_code: str
    kind: ReviewKind
    status: ReviewStatus
    reason: str
    opened_at: datetime
    decision: ReviewDecision | None
    decision_reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str = Field(examples=["SEND-7K2M9QXA"])
    la_code: str = Field(examples=["E06000033"])
    kind: CaseKind
    status: CaseStatus
    decision: str | None
    decision_date: date | None
    notice_sent_on: date | None
    told_on: date
    adviser_contacted_on: EventDate | None = Field(
        default=None, description="R4: when the parent or young person first contacted the mediation adviser")
    mediation_issues: list[str]
    health_issues: bool
    contact_window_ends_on: date | None = Field(description="R4: the end of the 2-month window to contact the adviser")
    late_contact: bool = Field(description="R4: contact came after the window; needs human review")
    mediate_by: date | None = Field(description="R8/R9: the last day the mediation may take place")
    certificate_due_on: date | None = Field(
        description="R6: the adviser certificate is due by this day; R15: the mediator certificate, after a held "
                    "mediation (none for health-only, R2)")
    health_only: bool
    meeting_needs: MeetingNeeds | None = Field(default=None, description="Language, accessibility and conflict needs")
    arranging_body: ArrangingBody = Field(description="R8: who arranges the mediation")
    health_bodies_told_by: date | None = Field(
        description="R8: the LA must give each health commissioning body the issues by this day")
    health_notice_sent_on: date | None = Field(
        default=None, description="R8: when the notice went to the health commissioning bodies; a health-only "
                                  "mediation's 30 days run from it")
    last_bookable_day: date | None = Field(
        default=None, description="R9: the last working day on or before mediate_by")
    latest_notice_day: date | None = Field(
        default=None, description="R11: the last day to give the date and place of a meeting on the last bookable "
                                  "day (5 clear working days)")
    certificate_issued_on: date | None
    appeal_deadline: date | None = Field(
        description="R17: the Tribunal must receive the appeal by 5pm on this day (recomputed when a certificate "
                    "is issued)")
    appeal_deadline_reason: str | None = Field(
        description="How the appeal deadline was reached, or why there is none (R2: health provision alone cannot "
                    "be appealed)")
    appeal_deadline_passed: bool | None = Field(
        default=None, description="R17: 5pm on the appeal deadline has passed (the Tribunal may still extend time); "
                                  "none without an appeal deadline")
    review_needed: bool = Field(default=False, description="A human review of this case is open (e.g. R4 late contact)")
    reviews: list[ReviewRead] = Field(default_factory=list)
    deadlines: list[DeadlineRead] = Field(
        default_factory=list, description="Every statutory date with its rule, trigger and steps")
    withdrawn_reason: str | None
    dr_type: int | None = Field(default=None, description="R21: disagreement-resolution type")
    dr_parties: list[DrPartyRead] = Field(default_factory=list)
    all_parties_consented: bool | None = Field(
        default=None, description="R21: a disagreement-resolution meeting can be booked only when true")
    created_at: datetime
    timeline: list[TimelineEntryRead] = Field(default_factory=list)


class CaseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    kind: CaseKind
    status: CaseStatus
    created_at: datetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; absent at the end")


class DeclineMediation(BaseModel):
    """The parent or young person who asked for mediation now declines it (R6 applies from `told_on`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"told_on": "2026-11-24"}]})

    told_on: EventDate = Field(description="The day the adviser was told")


class RequestMediation(BaseModel):
    """The parent or young person who declined now asks for mediation (R7: the 30 days run from `told_on`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "told_on": "2026-11-24", "mediation_issues": ["Section F provision"]}]})

    told_on: EventDate = Field(description="The day the LA was told")
    mediation_issues: list[Issue] = Field(min_length=1, max_length=ISSUES_MAX)


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "no_longer_disputed"}]})

    reason: Literal["no_longer_disputed", "appeal_not_pursued", "resolved_otherwise", "other"]


class ExemptionCheck(BaseModel):
    """What the appeal would be about (R3)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "appeal_about": ["named_school"], "notice_sent_on": "2026-11-03"}]})

    appeal_about: list[AppealMatter] = Field(min_length=1, max_length=20)
    notice_sent_on: EventDate


class ExemptionAnswer(BaseModel):
    certificate_required: bool
    reason: str
    appeal_deadline: date | None = Field(
        description="R17 without a certificate (exempt cases): notice sent + 2 months, moved per HESC rule 12")
    appeal_deadline_reason: str | None


class HealthNotice(BaseModel):
    """R8: the day the LA's notice actually went to the health commissioning bodies."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sent_on": "2026-11-23"}]})

    sent_on: EventDate = Field(description="Not before told_on, not in the future")


class ReviewResolution(BaseModel):
    """A person's decision on a review, with the reason (kept in intake; never sent in events)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "decision": "accepted", "reason": "The parent was in hospital; the adviser will issue a certificate and the "
                                          "Tribunal will be asked to extend time"}]})

    decision: ReviewDecision = Field(description="`accepted`: go ahead despite it; `refused`: out of time")
    reason: FreeText


class ReviewPage(BaseModel):
    items: list[ReviewRead]
