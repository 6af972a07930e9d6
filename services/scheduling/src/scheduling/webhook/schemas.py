"""What the mediation provider sends us (inbound, Standard Webhooks signed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scheduling.mediator.schemas import MEDIATOR_EXAMPLE, WINDOW_EXAMPLE, AvailabilityReplace, MediatorUpsert
from shared.events.meetings import ReasonCode
from shared.limits import (
    ATTENDEES_MAX,
    ISSUES_MAX,
    Bool,
    EventDate,
    Issue,
    MeetingUrl,
    Name,
    PlanInstant,
    ShortText,
)

AgreementKind = Literal["assess", "reassess", "make_plan", "amend_plan", "change_named_school", "continue_plan",
                        "non_appealable", "tell_la_when_not_a_party"]


class AgreementItem(BaseModel):
    """One thing agreed (R18). A timescale other than the default needs a written agreement."""

    model_config = ConfigDict(extra="forbid")

    kind: AgreementKind
    agreed_timescale_days: int | None = Field(default=None, ge=0, le=365)
    written_agreement: Bool = Field(default=False, description="R18: the different timescale is agreed in writing")


class OutcomeData(BaseModel):
    """The outcome of a meeting. Never what was said in it (R20): issue labels only, kept by scheduling."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    held: Bool
    concluded_on: EventDate
    agreement: Literal["full", "partial", "none"]
    resolved_issues: list[Issue] = Field(default_factory=list, max_length=ISSUES_MAX, description="R19")
    unresolved_issues: list[Issue] = Field(default_factory=list, max_length=ISSUES_MAX, description="R19")
    agreement_items: list[AgreementItem] = Field(default_factory=list, max_length=20, description="R18")


class MeetingOutcomeReported(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "type": "meeting.outcome_reported",
            "data": {"meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "held": True,
                     "concluded_on": "2026-12-10", "agreement": "partial"},
        }]},
    )

    type: Literal["meeting.outcome_reported"]
    data: OutcomeData


class ShortNoticeConsent(BaseModel):
    """R11: the parent or young person agreed to less than 5 clear working days' notice."""

    model_config = ConfigDict(extra="forbid")

    given_on: EventDate
    given_by: Literal["parent", "young_person"]


class InPerson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["in_person"]
    address: ShortText


class Remote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["remote"]
    url: MeetingUrl = Field(description="The video-call link the parties join")


Venue = Annotated[InPerson | Remote, Field(discriminator="kind")]


class Attendee(BaseModel):
    """R14 who may attend; R12 decision-makers with authority. Names stay in scheduling."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["parent", "young_person", "supporter", "advocate", "child", "la_decision_maker",
                  "health_representative", "other"]
    name: Name
    organisation: Name | None = None
    has_authority: Bool = Field(default=False, description="R12: may resolve the mediation issues")
    consent: Literal["all_parties", "mediator"] | None = Field(
        default=None, description="R14: for a second supporter, the child or anyone else: who agreed")


class ChildViews(BaseModel):
    """R14: whether and how the child's views were sought. Never the views themselves (R20)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["sought", "recorded", "child_attending", "not_possible"]
    method: Literal["in_writing", "in_person", "through_advocate", "through_parent", "other"] | None = None


BOOKING_EXAMPLE: dict[str, Any] = {
    "type": "meeting.booked",
    "data": {
        "case_id": "4f8e1c1e-8d8a-4e0c-9d7b-0a9c2b6f1d23", "mediator_id": "med-0001",
        "starts_at": "2026-12-14T10:00:00+00:00", "ends_at": "2026-12-14T12:00:00+00:00",
        "venue": {"kind": "remote", "url": "https://meet.example.org/kids/4f8e1c1e"},
        "attendees": [{"role": "parent", "name": "Alex Example"},
                      {"role": "supporter", "name": "Jo Friend"},
                      {"role": "la_decision_maker", "name": "Pat Officer", "organisation": "Southend-on-Sea City Council",
                       "has_authority": True}],
        "child_views": {"status": "recorded", "method": "in_writing"},
    },
}


class BookingData(BaseModel):
    """The provider's booking for a referred case: confirms or changes the provisional booking, or books again
    after a cancellation or a no-show."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=36)
    mediator_id: str | None = Field(default=None, max_length=64, description="Default: the mediator we assigned")
    starts_at: PlanInstant
    ends_at: PlanInstant
    venue: Venue
    attendees: list[Attendee] = Field(min_length=1, max_length=ATTENDEES_MAX)
    child_views: ChildViews | None = Field(default=None, description="R14: required where a parent is the party")
    short_notice_consent: ShortNoticeConsent | None = None


class MeetingBooked(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BOOKING_EXAMPLE]})

    type: Literal["meeting.booked"]
    data: BookingData


class RescheduleData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    starts_at: PlanInstant
    ends_at: PlanInstant
    venue: Venue | None = Field(default=None, description="Default: the same place")
    reason: ReasonCode = Field(examples=["mediator_unavailable", "requested_by_parent"])
    short_notice_consent: ShortNoticeConsent | None = None


class MeetingRescheduled(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "type": "meeting.rescheduled",
        "data": {"meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "starts_at": "2026-12-16T14:00:00+00:00",
                 "ends_at": "2026-12-16T16:00:00+00:00", "reason": "requested_by_parent"}}]})

    type: Literal["meeting.rescheduled"]
    data: RescheduleData


class CancelData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    reason: ReasonCode = Field(examples=["mediator_unavailable", "parent_unwell"])


class MeetingCancelled(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "type": "meeting.cancelled",
        "data": {"meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "reason": "mediator_unavailable"}}]})

    type: Literal["meeting.cancelled"]
    data: CancelData


class NoShowData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    absent_party: Literal["parent", "young_person", "local_authority", "health_commissioning_body", "mediator"]
    reason: ReasonCode = Field(default="did_not_attend", examples=["did_not_attend", "technical_failure"])


class MeetingNoShow(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "type": "meeting.no_show",
        "data": {"meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "absent_party": "local_authority",
                 "reason": "did_not_attend"}}]})

    type: Literal["meeting.no_show"]
    data: NoShowData


class MediatorUpdated(BaseModel):
    """A mediator of the provider, created or changed: employer (R5, R13), languages, accessibility skills,
    areas, capacity and conflicts of interest. Someone employed by an LA, an ICB or NHS England is kept but
    never assigned."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"type": "mediator.updated", "data": MEDIATOR_EXAMPLE}]})

    type: Literal["mediator.updated"]
    data: MediatorUpsert


class MediatorAvailabilityUpdated(BaseModel):
    """A mediator's availability: recurring windows (RFC 5545 RRULE, London times), replacing the previous ones,
    and, when given, the exceptions (days off) too."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"type": "mediator.availability_updated",
         "data": {"mediator_id": "med-0001", "windows": [WINDOW_EXAMPLE],
                  "exceptions": [{"starts_on": "2026-12-21", "ends_on": "2026-12-24", "reason": "leave"}]}}]})

    type: Literal["mediator.availability_updated"]
    data: AvailabilityReplace


class WebhookAccepted(BaseModel):
    status: Literal["applied", "duplicate"] = Field(
        description="`duplicate` when this webhook-id was already applied: nothing changed")
    webhook_id: str
    meeting_id: str | None = Field(default=None, description="The meeting a `meeting.*` webhook applied to: for "
                                   "`meeting.booked`, use it in later changes and the outcome (a new booking, or a "
                                   "change of mediator, gives a new meeting)")
