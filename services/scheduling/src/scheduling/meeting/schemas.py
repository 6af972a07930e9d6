"""What the meetings API returns: the booking, who attends, why this mediator, and every change with its reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scheduling.meeting.models import MeetingStatus


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    change: str = Field(examples=["rescheduled"])
    reason: str = Field(examples=["requested_by_parent"])
    by: str = Field(examples=["provider"])
    at: datetime


class MeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "case_id": "4f8e1c1e-8d8a-4e0c-9d7b-0a9c2b6f1d23",
        "kind": "mediation", "status": "scheduled", "mediator_id": "med-0001", "arranging_body": "local_authority",
        "starts_at": "2026-12-14T10:00:00Z", "ends_at": "2026-12-14T12:00:00Z",
        "location": "Video call: https://meet.example.org/kids/4f8e1c1e", "booked_by": "provider", "sequence": 1,
        "notice_given_on": "2026-12-01", "mediate_by": "2026-12-20", "late": False, "short_notice_consent_on": None,
        "attendees": [{"role": "parent", "name": "Alex Example"}],
        "child_views": {"status": "recorded", "method": "in_writing"},
        "assignment": {"chosen": "med-0001", "considered": [
            {"mediator_id": "med-0005", "eligible": False, "reasons": ["not independent (R13): employed by an ICB"]}]},
        "changes": [{"sequence": 0, "change": "booked", "reason": "referral", "by": "system",
                     "at": "2026-12-01T09:00:00Z"}],
    }]})

    id: str
    case_id: str
    kind: str
    status: MeetingStatus
    mediator_id: str
    arranging_body: str = Field(description="R8: who arranges")
    starts_at: datetime
    ends_at: datetime
    location: str
    booked_by: str = Field(description="`system` (provisional, on referral) or `provider` (its booking)")
    sequence: int = Field(description="Revisions of the booking; the calendar invitation's SEQUENCE")
    notice_given_on: date = Field(description="R11: the day notice of this date and place was given")
    mediate_by: date | None = Field(description="R8/R9: the last day the mediation may take place")
    late: bool = Field(description="R9/R10: the meeting falls after the 30-day date")
    short_notice_consent_on: date | None = Field(description="R11: the parent's consent to shorter notice")
    attendees: list[dict[str, Any]] = Field(description="R12/R14: who attends, by role")
    child_views: dict[str, Any] | None = Field(description="R14: whether and how the child's views were sought")
    assignment: dict[str, Any] | None = Field(description="Why this mediator was chosen and others refused")
    absent_party: str | None = None
    cancelled_reason: str | None = Field(default=None, description="Why it was cancelled or not attended")
    held: bool | None = None
    agreement: str | None = Field(default=None, description="full, partial or none")
    concluded_on: date | None = None
    follow_ups: list[dict[str, Any]] = Field(default_factory=list, description="R18: what the agreement obliges, by when")
    resolved_issues: list[str] = Field(default_factory=list,
                                       description="R19: the mediation issues resolved, for the LA (a party)")
    unresolved_issues: list[str] = Field(default_factory=list,
                                         description="R19: the issues still in dispute; an appeal narrows to these")
    changes: list[ChangeRead] = Field(default_factory=list)


class MeetingPage(BaseModel):
    items: list[MeetingRead]


class CapacityRead(BaseModel):
    """Capacity planning: how many more meetings the pool can take inside the case's window. Mediator ids only."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": "5f0c1a52-3d6e-4b7f-9a51-2f1f3c9d8e10", "earliest": "2026-12-10", "latest": "2026-12-30",
        "bookable_meetings": 14, "eligible_mediators": 3,
        "by_mediator": {"med-001": 6, "med-002": 8, "med-003": 0}}]})

    case_id: str
    earliest: date = Field(description="First day a meeting booked today can be held with full notice (R11)")
    latest: date = Field(description="The 30-day date (R9), or the end of the booking window (disagreement resolution)")
    bookable_meetings: int = Field(description="Meetings the eligible mediators can still take in the window, "
                                               "within their free slots and weekly capacity; 0: not on time (R10)")
    eligible_mediators: int
    by_mediator: dict[str, int]
