"""Events owned by intake, on the topic ``intake.cases``."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from shared.events.envelope import EventData, Personal

TOPIC = "intake.cases"

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


class CaseMediationDeclinedV1(CaseFacts):
    """The parent or young person told the adviser they do not want mediation.

    Certificates issues the adviser certificate (due within 3 working days, R6);
    notifications acknowledges receipt.
    """

    type: ClassVar[str] = "case.mediation_declined.v1"
    topic: ClassVar[str] = TOPIC

    told_adviser_on: date
    certificate_due_on: date
