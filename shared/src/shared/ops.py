"""The ops API every service mounts: its dead letters, listed, inspected, re-driven and discarded.

A dead letter is an event the consumer could not handle (``source`` =
``consumer``) or a table worker's parked item (``source`` = the worker, e.g.
``email_sender``; ``shared.poison``). Re-driving a parked item clears its parked
state so that its worker takes it again (``requeued``); discarding it keeps it
out of the worker's way for good.

Reading needs the ``ops:read`` scope, acting ``ops:write``. Nothing here shows
event data: a dead letter is described by its reason, a safe error detail, its
event's type, id and case id, where it was read from and how old it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from shared import clock, deadletters, poison
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deadletters import DeadLetter, DeadLetterReason, DeadLetterStatus
from shared.errors import VALIDATION_RESPONSES, Conflict, NotFound, ServiceError
from shared.kafka.consumer import RedriveFailed
from shared.limits import Reason
from shared.metrics import DEAD_LETTERS_WAITING
from shared.outage import is_outage

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

OpsReader = Annotated[ApiClient, Depends(require_scope("ops:read"))]
OpsWriter = Annotated[ApiClient, Depends(require_scope("ops:write"))]

#: At most this many dead letters per "re-drive all" call; call again for the rest.
REDRIVE_ALL_LIMIT = 500


class DeadLetterNotFound(NotFound):
    code = "dead_letter_not_found"
    title = "Dead letter not found"


class DeadLetterResolved(Conflict):
    code = "dead_letter_resolved"
    title = "The dead letter was already re-driven or discarded"


class DependencyUnavailable(ServiceError):
    status = 503
    code = "dependency_unavailable"
    title = "The database is unavailable; nothing was changed, try again"


class OriginalRecord(BaseModel):
    topic: str = Field(examples=["intake.cases"])
    partition: int = Field(examples=[2])
    offset: int = Field(examples=[1041])


EXAMPLE: dict[str, Any] = {
    "id": "0b9c6f0e-3a43-5c7e-9a55-6f1c2b6f0d11", "source": "consumer", "status": "dead",
    "reason": "handler_failed", "error": "DBAPIError (SQLSTATE 22P05) at notifications.message.handlers:_notify:97",
    "event_type": "case.submitted.v1", "event_id": "5f0e7c1a-8f1e-4b8e-9d7c-2a1b3c4d5e6f",
    "case_id": "3f2b9c1e-7d6a-4e5f-8a9b-0c1d2e3f4a5b",
    "original": {"topic": "intake.cases", "partition": 2, "offset": 1041},
    "dead_lettered_at": "2026-12-01T09:30:00Z", "age_seconds": 5400, "redrive_attempts": 0,
    "last_redrive_error": None, "resolved_at": None, "resolved_by": None, "resolution": None,
}


class DeadLetterRead(BaseModel):
    """One dead letter, without its event's data (which may be personal)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    id: str
    source: str = Field(description="`consumer` for events; a table worker's name for a parked row")
    status: Literal["dead", "redriven", "discarded"]
    reason: DeadLetterReason = Field(description="For events `undecodable`, `handler_failed`, `unknown_type`; for a "
                                     "parked item `too_large`, `unencodable`, `unrenderable`, `rejected`, "
                                     "`item_failed`")
    error: str = Field(description="Exception class, where it was raised and any SQLSTATE; never data")
    event_type: str | None = Field(description="The event's type; for a parked item its kind (event type, template)")
    event_id: str | None = Field(description="The event's id; for a parked item the row's key in its table")
    case_id: str | None
    original: OriginalRecord = Field(description="Where it was read from; for a parked item `topic` is its table")
    dead_lettered_at: datetime
    age_seconds: int
    redrive_attempts: int
    last_redrive_error: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterRead:
        return cls(id=letter.id, source=letter.source, status=letter.status, reason=letter.reason,
                   error=letter.error, event_type=letter.event_type, event_id=letter.event_id,
                   case_id=letter.subject,
                   original=OriginalRecord(topic=letter.topic, partition=letter.partition, offset=letter.offset),
                   dead_lettered_at=letter.dead_lettered_at,
                   age_seconds=max(0, int((clock.now() - letter.dead_lettered_at).total_seconds())),
                   redrive_attempts=letter.redrive_attempts, last_redrive_error=letter.last_redrive_error,
                   resolved_at=letter.resolved_at, resolved_by=letter.resolved_by, resolution=letter.resolution)


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    total: int = Field(description="How many match the filter, beyond this page too")


class RedriveResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": EXAMPLE["id"], "outcome": "handled", "status": "redriven", "error": None},
        {"id": EXAMPLE["id"], "outcome": "failed", "status": "dead",
         "error": "DBAPIError (SQLSTATE 22P05) at notifications.message.handlers:_notify:97"}]})

    id: str
    outcome: Literal["handled", "duplicate", "failed", "requeued"] = Field(
        description="`handled` again now; `duplicate`: the inbox shows it was handled meanwhile; `failed` again; "
                    "`requeued`: a parked item is back in its worker's queue (parked again if it keeps failing)")
    status: Literal["dead", "redriven", "discarded"]
    error: str | None = None


class RedriveSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"attempted": 3, "handled": 2, "duplicate": 0,
                                                              "failed": 1, "results": []}]})

    attempted: int
    handled: int
    duplicate: int
    failed: int
    results: list[RedriveResult]


class Discard(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "test event sent by mistake"}]})

    reason: Reason = Field(description="Why it needs no handling (kept with it)")


def ops_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(prefix="/v1/ops", tags=["operations"])

    async def _get(letter_id: str) -> DeadLetter:
        async with runtime.sessionmaker() as session:
            letter = await session.get(DeadLetter, letter_id)
        if letter is None:
            raise DeadLetterNotFound(f"no dead letter {letter_id}")
        return letter

    async def _requeue(letter_id: str, by: str) -> RedriveResult:
        async with runtime.sessionmaker() as session:
            letter = await session.get(DeadLetter, letter_id)
            if letter is None:
                raise DeadLetterNotFound(f"no dead letter {letter_id}")
            await poison.requeue(session, letter)
            letter.redrive_attempts += 1
            deadletters.resolve(session, letter, DeadLetterStatus.redriven, by=by)
            await session.commit()
            runtime.wake(letter.source)
        return RedriveResult(id=letter_id, outcome="requeued", status="redriven")

    async def _redrive(letter_id: str, by: str, source: str) -> RedriveResult:
        try:
            if source != deadletters.CONSUMER:
                return await _requeue(letter_id, by)
            outcome = await runtime.event_handling().redrive(letter_id, by=by)
        except RedriveFailed as exc:
            return RedriveResult(id=letter_id, outcome="failed", status="dead", error=str(exc))
        except Exception as exc:
            if is_outage(exc):  # the dead letter stays as it was
                raise DependencyUnavailable() from exc
            raise
        return RedriveResult(id=letter_id, outcome=outcome, status="redriven")

    @router.get("/dead-letters", response_model=DeadLetterPage, summary="List dead letters, oldest first",
                responses={**AUTH_RESPONSES, **VALIDATION_RESPONSES})
    async def list_dead_letters(
        _: OpsReader,
        status: Annotated[DeadLetterStatus | None, Query(description="`dead` (waiting), `redriven`, `discarded`")]
            = DeadLetterStatus.dead,
        reason: DeadLetterReason | None = None,
        source: Annotated[str | None, Query(max_length=64, description="`consumer`, or a worker's name, e.g. "
                                            "`email_sender`, `outbox_relay`")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> DeadLetterPage:
        """Events this service could not handle: why (`undecodable`, `handler_failed`, `unknown_type`), a safe
        error detail, the record's original topic, partition and offset, and its age; and the items its table
        workers parked (`source` the worker, `original.topic` the table, `event_id` the row's key). Never data."""
        async with runtime.sessionmaker() as session:
            rows, total = await deadletters.listing(session, status=status, reason=reason, limit=limit,
                                                    offset=offset, source=source)
            if status is DeadLetterStatus.dead and reason is None and source is None:
                DEAD_LETTERS_WAITING.labels(runtime.service).set(total)
        return DeadLetterPage(items=[DeadLetterRead.of(row) for row in rows], total=total)

    @router.get("/dead-letters/{letter_id}", response_model=DeadLetterRead, summary="One dead letter",
                responses={**AUTH_RESPONSES, **DeadLetterNotFound.response()})
    async def get_dead_letter(letter_id: str, _: OpsReader) -> DeadLetterRead:
        return DeadLetterRead.of(await _get(letter_id))

    @router.post("/dead-letters/{letter_id}/redrive", response_model=RedriveResult,
                 summary="Handle one dead letter again",
                 responses={**AUTH_RESPONSES, **DeadLetterNotFound.response(), **DeadLetterResolved.response(),
                            **DependencyUnavailable.response()})
    async def redrive_dead_letter(letter_id: str, client: OpsWriter) -> RedriveResult:
        """Through the same handlers and inbox as the consumer: safe to repeat, and an event handled meanwhile
        is not handled twice (`duplicate`). If it fails again it stays dead with the new error (`failed`)."""
        letter = await _get(letter_id)
        if letter.status != DeadLetterStatus.dead:
            raise DeadLetterResolved(f"dead letter {letter_id} is {letter.status}")
        return await _redrive(letter_id, client.name, letter.source)

    @router.post("/dead-letters/redrive", response_model=RedriveSummary,
                 summary=f"Handle every waiting dead letter again (up to {REDRIVE_ALL_LIMIT} a call)",
                 responses={**AUTH_RESPONSES, **DependencyUnavailable.response()})
    async def redrive_all_dead_letters(client: OpsWriter) -> RedriveSummary:
        """Oldest first; each as in the single re-drive. Call again while `attempted` equals the limit."""
        async with runtime.sessionmaker() as session:
            ids = await deadletters.waiting_ids(session, REDRIVE_ALL_LIMIT)
        results = [await _redrive(letter_id, client.name, source) for letter_id, source in ids]
        counts: dict[str, Any] = {kind: sum(r.outcome == kind for r in results)
                                  for kind in ("handled", "duplicate", "failed")}
        return RedriveSummary(attempted=len(results), results=results, **counts)

    @router.post("/dead-letters/{letter_id}/discard", response_model=DeadLetterRead,
                 summary="Discard a dead letter, with the reason",
                 responses={**AUTH_RESPONSES, **VALIDATION_RESPONSES, **DeadLetterNotFound.response(),
                            **DeadLetterResolved.response()})
    async def discard_dead_letter(letter_id: str, body: Annotated[Discard, Body()], client: OpsWriter) -> DeadLetterRead:
        """It will not be re-driven; the reason and who discarded it are kept with it."""
        async with runtime.sessionmaker() as session:
            letter = await session.get(DeadLetter, letter_id)
            if letter is None:
                raise DeadLetterNotFound(f"no dead letter {letter_id}")
            if letter.status != DeadLetterStatus.dead:
                raise DeadLetterResolved(f"dead letter {letter_id} is {letter.status}")
            if letter.source != deadletters.CONSUMER:
                await poison.discard(session, letter)
            deadletters.resolve(session, letter, DeadLetterStatus.discarded, by=client.name, resolution=body.reason)
            await session.commit()
        return DeadLetterRead.of(letter)

    return router
