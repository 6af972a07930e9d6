"""Mediator API schemas. ``MediatorUpsert`` and ``AvailabilityReplace`` are also, exactly, the ``data`` of the
provider's ``mediator.updated`` and ``mediator.availability_updated`` webhooks (the provider is known from the
webhook's signature, so it is not in them); the admin API adds ``provider_id`` (``MediatorAdminUpsert``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from scheduling.mediator.models import EmployerKind
from scheduling.mediator.rules import rrule_needs_valid_from, rrule_problem
from shared.limits import Bool, Email, LocalTime, Name, PlanDate, no_nul

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
OrganisationId = Annotated[str, StringConstraints(pattern=r"^(E(0[6-9]|10)\d{6}|\d{5,8})$")]  # ONS code or URN
LaCode = Annotated[str, StringConstraints(pattern=r"^E(0[6-9]|10)\d{6}$")]

MEDIATOR_EXAMPLE: dict[str, Any] = {
    "id": "med-0001", "name": "Jordan Avery", "email": "jordan.avery@kids.example",
    "employer_kind": "independent", "employer_name": "KIDS", "capacity_per_week": 5, "active": True,
    "languages": ["en", "pl"], "accessibility_skills": ["step_free_access", "hearing_loop"],
    "areas": ["E06000033"], "conflicts": ["E10000012", "115024"]}
WINDOW_EXAMPLE: dict[str, Any] = {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "09:30",
                                  "end_time": "16:30"}
EXCEPTION_EXAMPLE: dict[str, Any] = {"starts_on": "2026-12-21", "ends_on": "2026-12-24", "reason": "leave"}


class MediatorUpsert(BaseModel):
    """A mediator as the provider describes them. Independence (R13) is judged from ``employer_kind``:
    local_authority, icb and nhs_england employees are kept but never assigned."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MEDIATOR_EXAMPLE]})

    id: Id = Field(description="The provider's id for the mediator")
    name: Name = Field(description="Personal data: never logged")
    email: Email | None = Field(default=None, description="Work email. Personal data: never logged")
    employer_kind: EmployerKind
    employer_name: Name = Field(examples=["KIDS"])
    capacity_per_week: int = Field(default=5, ge=0, le=50, description="Meetings a week at most; 0 pauses bookings")
    active: Bool = True
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20,
                                         description="BCP 47 tags: en, pl, bfi (British Sign Language)")
    accessibility_skills: list[Code] = Field(
        default_factory=list, max_length=30,
        description="Short codes: step_free_access, hearing_loop, bsl, easy_read, autism_aware")
    areas: list[LaCode] = Field(default_factory=list, max_length=400,
                                description="ONS codes of the local authorities served; empty means every area")
    conflicts: list[OrganisationId] = Field(
        default_factory=list, max_length=100,
        description="Conflicts of interest: LA ONS codes and school URNs (e.g. a former employer)")


class MediatorAdminUpsert(MediatorUpsert):
    """The admin API's upsert: the provider the mediator works for is named here."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {**MEDIATOR_EXAMPLE, "provider_id": "kids-send-mediation"}]})

    provider_id: Id = Field(examples=["kids-send-mediation"])


class WindowIn(BaseModel):
    """A recurring window: on the days the RRULE names, from start_time to end_time, Europe/London."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [WINDOW_EXAMPLE]})

    rrule: str = Field(min_length=6, max_length=500, description="RFC 5545 RRULE value; DTSTART is valid_from",
                       examples=["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"])
    start_time: LocalTime = Field(description="Local time (Europe/London)", examples=["09:30"])
    end_time: LocalTime = Field(description="Local time (Europe/London), after start_time", examples=["16:30"])
    valid_from: PlanDate | None = Field(default=None, validate_default=True,
                                    description="First day (inclusive); the rule's DTSTART")
    valid_until: PlanDate | None = Field(default=None, description="Last day (inclusive)")

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str) -> str:
        no_nul(value)
        problem = rrule_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip().removeprefix("RRULE:")

    @field_validator("end_time")
    @classmethod
    def _end_time(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start_time")
        if start is not None and value <= start:
            raise ValueError("must be after start_time")
        return value

    @field_validator("valid_from")
    @classmethod
    def _valid_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        rule = info.data.get("rrule")
        if value is None and rule and rrule_needs_valid_from(rule):
            raise ValueError("a rule with COUNT or INTERVAL counts from valid_from: give valid_from")
        return value

    @field_validator("valid_until")
    @classmethod
    def _valid_until(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before valid_from")
        return value


class ExceptionIn(BaseModel):
    """Whole days the mediator is unavailable, starts_on to ends_on inclusive."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXCEPTION_EXAMPLE]})

    starts_on: PlanDate
    ends_on: PlanDate
    reason: Code = Field(description="A short code: leave, training, sickness, other", examples=["leave"])

    @field_validator("ends_on")
    @classmethod
    def _ends_on(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("starts_on")
        if start is not None and value < start:
            raise ValueError("must not be before starts_on")
        return value


class AvailabilityReplace(BaseModel):
    """Replaces every recurring window of the mediator; ``exceptions``, when given, replaces every exception
    too (omit it to keep them)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"mediator_id": "med-0001", "windows": [WINDOW_EXAMPLE], "exceptions": [EXCEPTION_EXAMPLE]}]})

    mediator_id: Id
    windows: list[WindowIn] = Field(max_length=50)
    exceptions: list[ExceptionIn] | None = Field(default=None, max_length=200)


class WindowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rrule: str
    start_time: LocalTime
    end_time: LocalTime
    valid_from: date | None
    valid_until: date | None


class ExceptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "unav_3f2a9c0d1b7e4a65", **EXCEPTION_EXAMPLE}]})

    id: str
    starts_on: date
    ends_on: date
    reason: str


class MediatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {**MEDIATOR_EXAMPLE, "provider_id": "kids-send-mediation", "last_booked_at": None, "independent": True}]})

    id: str
    provider_id: str
    name: str
    email: str | None
    employer_kind: EmployerKind
    employer_name: str
    capacity_per_week: int
    active: bool
    languages: list[str]
    accessibility_skills: list[str]
    areas: list[str]
    conflicts: list[str]
    last_booked_at: datetime | None
    independent: bool = Field(description="R13: false for LA, ICB and NHS England employees, never assigned")


class MediatorDetail(MediatorRead):
    windows: list[WindowRead]
    exceptions: list[ExceptionRead]


class MediatorPage(BaseModel):
    items: list[MediatorRead]
