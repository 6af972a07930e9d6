"""The council portal's contract for cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from intake.case.models import CaseKind, CaseStatus
from shared.events.cases import DecisionKind

EXAMPLE_CASE = {
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
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class Child(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date


class CaseCreate(BaseModel):
    """A request for mediation, or the news that the parent or young person declines it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_CASE]})

    kind: CaseKind = Field(description="`mediation` (R7) or `mediation_declined` (R6)")
    decision: DecisionKind = Field(description="The appealable decision in dispute (R2)")
    decision_date: date
    notice_sent_on: date = Field(description="The date the written notice of the decision was sent (T6)")
    told_on: date = Field(description="The date the LA (mediation) or the adviser (decline) was told")
    requester: Requester
    child: Child
    mediation_issues: list[str] = Field(default_factory=list, max_length=50,
                                        description="Required for mediation (R7)")
    health_issues: bool = Field(default=False, description="Any health care issue in the mediation (R8)")

    @model_validator(mode="after")
    def _mediation_names_its_issues(self) -> CaseCreate:
        if self.kind is CaseKind.mediation and not any(issue.strip() for issue in self.mediation_issues):
            raise ValueError("mediation_issues: a mediation request must name at least one issue (R7)")
        return self


class TimelineEntryRead(BaseModel):
    kind: str = Field(examples=["meeting_scheduled"])
    occurred_at: datetime
    summary: str
    reference: str | None = Field(default=None, description="Id of the meeting, certificate or message")


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str = Field(examples=["SEND-7K2M9QXA"])
    la_code: str = Field(examples=["E06000033"])
    kind: CaseKind
    status: CaseStatus
    decision: str
    decision_date: date
    notice_sent_on: date
    told_on: date
    mediation_issues: list[str]
    health_issues: bool
    contact_window_ends_on: date = Field(description="R4: the end of the 2-month window to contact the adviser")
    late_contact: bool = Field(description="R4: contact came after the window; needs human review")
    mediate_by: date | None = Field(description="R8/R9: the last day the mediation may take place")
    certificate_due_on: date | None = Field(description="R6: the adviser certificate is due by this day")
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
