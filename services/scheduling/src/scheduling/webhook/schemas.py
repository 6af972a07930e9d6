"""What the mediation provider sends us (inbound, Standard Webhooks signed)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AgreementKind = Literal["assess", "reassess", "make_plan", "amend_plan", "change_named_school", "continue_plan",
                        "non_appealable", "tell_la_when_not_a_party"]


class AgreementItem(BaseModel):
    """One thing agreed (R18). A timescale other than the default needs a written agreement."""

    model_config = ConfigDict(extra="forbid")

    kind: AgreementKind
    agreed_timescale_days: int | None = Field(default=None, ge=0, le=365)
    written_agreement: bool = Field(default=False, description="R18: the different timescale is agreed in writing")


class OutcomeData(BaseModel):
    """The outcome of a meeting. Never what was said in it (R20): issue labels only, kept by scheduling."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    held: bool
    concluded_on: date
    agreement: Literal["full", "partial", "none"]
    resolved_issues: list[str] = Field(default_factory=list, max_length=50, description="R19")
    unresolved_issues: list[str] = Field(default_factory=list, max_length=50, description="R19")
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


class WebhookAccepted(BaseModel):
    status: Literal["applied", "duplicate"] = Field(
        description="`duplicate` when this webhook-id was already applied: nothing changed")
    webhook_id: str
