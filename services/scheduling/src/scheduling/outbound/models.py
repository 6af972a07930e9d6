from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared import clock


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookEndpoint(SQLModel, table=True):
    """Where a mediation provider receives our webhooks, with its signing secrets (newest first)."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=64)
    provider_id: str = Field(index=True, max_length=64)
    url: str = Field(max_length=2000)
    secrets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


class WebhookMessage(SQLModel, table=True):
    """One outbound webhook, persisted before it is sent; retries reuse its id as ``webhook-id``."""

    __tablename__ = "webhook_messages"
    #: The claim's index: the oldest pending row first, never a walk past the rows already done.
    __table_args__ = (Index("ix_webhook_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=64)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", index=True, max_length=64)
    case_id: str = Field(index=True, max_length=36)
    type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=clock.now, index=True)
    delivered_at: datetime | None = None
