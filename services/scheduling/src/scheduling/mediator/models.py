"""Independent mediators kept by scheduling (R5, R13), maintained by the provider's webhooks and the admin API."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared import clock


class EmployerKind(StrEnum):
    independent = "independent"
    self_employed = "self_employed"
    local_authority = "local_authority"
    icb = "icb"
    nhs_england = "nhs_england"


class Mediator(SQLModel, table=True):
    __tablename__ = "mediators"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200, repr=False)  # personal data, like email
    provider_id: str = Field(index=True, max_length=64)
    employer_kind: EmployerKind
    employer_name: str = Field(max_length=200)
    capacity_per_week: int = 5
    active: bool = True
    last_booked_at: datetime | None = None
    #: Work email, for the meeting invitation. Personal data: never logged, never in an assignment explanation.
    email: str | None = Field(default=None, max_length=320, repr=False)
    #: BCP 47 tags the mediator can mediate in: ``en``, ``pl``, ``bfi`` (British Sign Language).
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Short codes: ``step_free_access``, ``hearing_loop``, ``bsl``, ``easy_read``, ``autism_aware``.
    accessibility_skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: ONS codes of the local authorities served; empty means every area.
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Organisations the mediator has a conflict of interest with: LA ONS codes and school URNs.
    conflicts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MediatorAvailability(SQLModel, table=True):
    """A recurring window of availability: the days an RFC 5545 RRULE names, from ``start_time`` to
    ``end_time`` local time (Europe/London), between ``valid_from`` and ``valid_until`` inclusive."""

    __tablename__ = "mediator_availability"

    id: int | None = Field(default=None, primary_key=True)
    mediator_id: str = Field(foreign_key="mediators.id", index=True, max_length=64)
    rrule: str = Field(max_length=500, description="e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    start_time: time
    end_time: time
    valid_from: date | None = Field(default=None, description="Also the rule's DTSTART (INTERVAL, COUNT count from it)")
    valid_until: date | None = None


class MediatorUnavailability(SQLModel, table=True):
    """An exception to the recurring windows: whole days, ``starts_on`` to ``ends_on`` inclusive."""

    __tablename__ = "mediator_unavailability"

    id: str = Field(default_factory=lambda: f"unav_{uuid.uuid4().hex[:16]}", primary_key=True, max_length=32)
    mediator_id: str = Field(foreign_key="mediators.id", index=True, max_length=64)
    starts_on: date
    ends_on: date
    reason: str = Field(max_length=32, description="A short code: leave, training, sickness, other")
    created_at: datetime = Field(default_factory=clock.now)
