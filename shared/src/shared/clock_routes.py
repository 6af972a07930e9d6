"""``/v1/ops/clock``: read the clock every service uses, and move a scenario clock forward (never production)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import clock, scenario_clock
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.errors import VALIDATION_RESPONSES, Conflict, InvalidRequest
from shared.limits import PlanInstant

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

#: A scenario is rehearsed over weeks, not years: a larger move is a typing mistake.
MAX_MOVE = timedelta(days=400)


class ClockRead(BaseModel):
    scenario_clock: str | None = Field(description="The scenario clock this service follows; null: the system clock")
    now: datetime = Field(description="The current instant (UTC) every rule and worker of this service uses")
    today: date = Field(description="Today in England (Europe/London), the day statutory limits count from")
    offset_seconds: float = Field(description="How far the clock runs ahead of real time")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "scenario_clock": "staging", "now": "2026-12-24T10:00:00Z", "today": "2026-12-24", "offset_seconds": 86400.0,
    }]})


class ClockMove(BaseModel):
    """Advance by a duration, or move to a later instant; exactly one of the two."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"advance": "P3D"},
                                                                              {"to": "2027-01-04T09:00:00Z"}]})

    advance: timedelta | None = Field(default=None, description="ISO 8601 duration, e.g. P3D or PT6H")
    to: PlanInstant | None = Field(default=None, description="An aware instant later than the clock's now")

    @model_validator(mode="after")
    def _one_of(self) -> ClockMove:
        if (self.advance is None) == (self.to is None):
            raise ValueError("give exactly one of advance or to")
        return self


class ScenarioClockDisabled(Conflict):
    code = "scenario_clock_disabled"
    title = "This deployment follows the system clock"


def clock_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(prefix="/v1/ops", tags=["operations"])

    def read() -> ClockRead:
        return ClockRead(scenario_clock=runtime.settings.scenario_clock, now=clock.now(), today=clock.today(),
                         offset_seconds=clock.CLOCK.offset.total_seconds())

    @router.get("/clock", response_model=ClockRead, summary="The clock this service runs on",
                responses={**AUTH_RESPONSES})
    async def get_clock(_: Annotated[ApiClient, Depends(require_scope("ops:read"))]) -> ClockRead:
        """What "now" and "today in England" are for this service's rules and workers."""
        return read()

    responses: dict[int | str, dict[str, Any]] = {
        **AUTH_RESPONSES, **VALIDATION_RESPONSES,
        409: {"description": "No scenario clock is enabled (always so in production)"},
    }

    @router.post("/clock", response_model=ClockRead, summary="Move the scenario clock forward", responses=responses)
    async def move_clock(body: ClockMove, client: Annotated[ApiClient, Depends(require_scope("ops:write"))]) -> ClockRead:
        """Development and staging only. Moves the named scenario clock for every service that follows it;
        reminders, the day-30 watch and certificate due dates fire as the time passes."""
        follower, name = runtime.clock_follower, runtime.settings.scenario_clock
        if follower is None or name is None:
            raise ScenarioClockDisabled("set <PREFIX>SCENARIO_CLOCK on every service to rehearse with a scenario clock")
        delta = body.advance if body.advance is not None else _until(body.to)
        if delta <= timedelta(0):
            raise InvalidRequest.field("body.advance" if body.advance is not None else "body.to",
                                       "the clock only moves forward")
        if delta > MAX_MOVE:
            raise InvalidRequest.field("body.advance" if body.advance is not None else "body.to",
                                       f"moves at most {MAX_MOVE.days} days at a time")
        offset = clock.CLOCK.offset + delta
        await scenario_clock.publish(runtime.settings.kafka_bootstrap_servers, namespace=runtime.settings.kafka_namespace,
                                     name=name, offset=offset, set_by=client.name)
        await scenario_clock.wait_for_offset(follower, offset)
        return read()

    return router


def _until(instant: datetime | None) -> timedelta:
    assert instant is not None
    if instant.tzinfo is None:
        raise InvalidRequest.field("body.to", "give a time zone (e.g. Z or +01:00)")
    return instant - clock.now()
