"""What the mediation provider sends us (inbound, Standard Webhooks signed)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OutcomeData(BaseModel):
    """The outcome of a meeting. Never what was said in it (R20)."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: str = Field(min_length=1, max_length=36)
    held: bool
    concluded_on: date
    agreement: Literal["full", "partial", "none"]


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
