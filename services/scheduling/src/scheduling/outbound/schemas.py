from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scheduling.mediator.schemas import Id
from scheduling.outbound.models import DeliveryStatus
from shared.limits import EndpointUrl, PlanInstant


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "provider_id": "kids-send-mediation", "url": "https://provider.example/webhooks/send"}]})

    provider_id: Id
    url: EndpointUrl


class EndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider_id: str
    url: str
    enabled: bool
    disabled_reason: str | None


class EndpointSecret(BaseModel):
    endpoint_id: str
    secret: str = Field(description="The whsec_ secret to verify our signatures with; shown once")


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Sent as webhook-id on every attempt")
    endpoint_id: str
    case_id: str
    type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class MessagePage(BaseModel):
    items: list[MessageRead]


class Recovery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: PlanInstant = Field(description="Send again every message to this endpoint that failed since then")


class Recovered(BaseModel):
    requeued: int


# --- What the provider receives (documented as OpenAPI webhooks) ------------------------------------


class CaseReferredData(BaseModel):
    """A case referred to the provider with its provisional booking: an independent mediator (R13) on a day
    that gives 5 clear working days' notice (R11), on or before the 30-day date where that is possible (R9).
    Confirm or change it with the `meeting.booked` webhook. No personal data: the provider contacts the family
    through the LA's process."""

    case_id: str
    case_reference: str = Field(examples=["SEND-7K2M9QXA"])
    kind: str = Field(examples=["mediation"], description="`mediation` or `disagreement_resolution`")
    la_code: str = Field(examples=["E06000033"])
    meeting_id: str | None = Field(description="The provisional booking; none when no mediator of yours fits")
    mediator_id: str | None = Field(examples=["med-0001"])
    starts_at: datetime | None
    ends_at: datetime | None
    mediate_by: str | None = Field(description="R8/R9: the last day the mediation may take place")
    health_issues: bool
    needs: dict[str, Any] = Field(default_factory=dict, description="`languages` (BCP 47), `accessibility_needs` "
                                  "(codes) and `school_urn`: what the mediator must meet, and who they must be "
                                  "free of conflict with")
    unassigned: list[dict[str, Any]] | None = Field(
        default=None, description="Only when nobody was booked: each of your mediators considered, with why they "
                                  "could not be assigned (ids and reasons). Find someone and send `meeting.booked`.")


class MeetingCancelledData(BaseModel):
    case_id: str
    meeting_id: str
    reason: str = Field(examples=["case_withdrawn"])


class CaseReferred(BaseModel):
    """Sent when a case is referred and its meeting booked. Headers: webhook-id (stable across retries:
    de-duplicate on it), webhook-timestamp, webhook-signature (Standard Webhooks, v1 HMAC-SHA256)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "case.referred", "timestamp": "2026-11-20T10:00:00+00:00",
        "data": {"case_id": "4b3734dd-7068-45e9-835b-66805d353423", "case_reference": "SEND-PRGR4S35",
                 "kind": "mediation", "la_code": "E06000033", "meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10",
                 "mediator_id": "med-0001", "starts_at": "2026-11-30T10:00:00+00:00",
                 "ends_at": "2026-11-30T12:00:00+00:00", "mediate_by": "2026-12-20", "health_issues": False,
                 "needs": {"languages": ["pl"], "accessibility_needs": ["step_free_access"], "school_urn": "114820"}}}]})

    type: str = Field(examples=["case.referred"])
    timestamp: datetime
    data: CaseReferredData


class MeetingCancelled(BaseModel):
    """Sent when a booked meeting is called off (the case was withdrawn or mediation declined)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "meeting.cancelled", "timestamp": "2026-11-24T09:00:00+00:00",
        "data": {"case_id": "4b3734dd-7068-45e9-835b-66805d353423",
                 "meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "reason": "case_withdrawn"}}]})

    type: str = Field(examples=["meeting.cancelled"])
    timestamp: datetime
    data: MeetingCancelledData
