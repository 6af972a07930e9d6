"""Independent mediators kept by scheduling (R5, R13), maintained by the provider's webhooks and the admin API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class EmployerKind(StrEnum):
    independent = "independent"
    self_employed = "self_employed"
    local_authority = "local_authority"
    icb = "icb"
    nhs_england = "nhs_england"


class Mediator(SQLModel, table=True):
    __tablename__ = "mediators"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    provider_id: str = Field(index=True, max_length=64)
    employer_kind: EmployerKind
    employer_name: str = Field(max_length=200)
    capacity_per_week: int = 5
    active: bool = True
    last_booked_at: datetime | None = None
