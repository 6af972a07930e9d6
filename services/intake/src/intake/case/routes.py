from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from intake.case import rules
from intake.case import service as case_service
from intake.case.models import Case, CaseKind, CaseStatus
from intake.case.schemas import (
    CaseCreate,
    CasePage,
    CaseRead,
    CaseSummary,
    ConsentRecord,
    DeadlineRead,
    DeclineMediation,
    DrPartyRead,
    ExemptionAnswer,
    ExemptionCheck,
    HealthNotice,
    RequestMediation,
    ReviewRead,
    TimelineEntryRead,
    Withdrawal,
)
from intake.review import service as review_service
from intake.review.models import Review, ReviewStatus
from intake.timeline import service as timeline_service
from intake.timeline.models import TimelineEntry
from shared import clock
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.calendar import AppealDeadline
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES

router = APIRouter(prefix="/v1/cases", tags=["cases"])

PortalWriter = Annotated[ApiClient, Depends(require_scope("cases:write"))]
PortalReader = Annotated[ApiClient, Depends(require_scope("cases:read"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255,
           description="Send the same key when retrying: the original case comes back, never a second one"),
]


async def _read(session: SessionDep, case_id: str, la_code: str | None) -> CaseRead:
    case = await case_service.get_or_raise(session, case_id, la_code=la_code)
    timeline = await timeline_service.for_case(session, case.id)
    reviews = await review_service.for_case(session, case.id)
    return _case_read(case, timeline, reviews)


def _read_new(session: SessionDep, case: Case) -> CaseRead:
    """A case this session has just created: every row that refers to it was written by this session (and is
    remembered by it), so the answer is built without reading back what was just written (two round trips)."""
    rows = timeline_service.written(session)
    timeline = sorted((r for r in rows if isinstance(r, TimelineEntry) and r.case_id == case.id),
                      key=lambda e: (e.occurred_at, e.id or 0))
    reviews = sorted((r for r in rows if isinstance(r, Review) and r.case_id == case.id),
                     key=lambda r: (r.opened_at, r.id))
    return _case_read(case, timeline, reviews)


def _case_read(case: Case, timeline: Sequence[TimelineEntry], reviews: Sequence[Review]) -> CaseRead:
    is_dr = case.kind is CaseKind.disagreement_resolution
    deadlines = case_service.explain(case)
    by_name = {d.name: d.date for d in deadlines}
    appeal_passed = None
    if case.appeal_deadline is not None:
        appeal_passed = clock.now() > AppealDeadline(case.appeal_deadline, case.appeal_deadline, "").receive_by
    return CaseRead.model_validate(case).model_copy(update={
        "timeline": [TimelineEntryRead.model_validate(e, from_attributes=True) for e in timeline],
        "dr_parties": [DrPartyRead.model_validate(p) for p in case.dr_parties],
        "all_parties_consented": rules.all_consented(case.dr_parties) if is_dr else None,
        "deadlines": [DeadlineRead.model_validate(d) for d in deadlines],
        "last_bookable_day": by_name.get("last_bookable_day"),
        "latest_notice_day": by_name.get("latest_notice_day"),
        "appeal_deadline_passed": appeal_passed,
        "reviews": [ReviewRead.model_validate(r) for r in reviews],
        "review_needed": any(r.status is ReviewStatus.open for r in reviews),
    })


@router.post(
    "",
    status_code=201,
    response_model=CaseRead,
    summary="Submit a mediation request or a decline of mediation",
    responses={
        200: {"description": "A retry with the same Idempotency-Key and body: the original case", "model": CaseRead},
        **VALIDATION_RESPONSES, **AUTH_RESPONSES, **case_service.IdempotencyKeyReused.response(),
    },
)
async def submit_case(body: CaseCreate, session: SessionDep, client: PortalWriter, response: Response,
                      key: IdempotencyKey = None) -> CaseRead:
    """Store the request, start its statutory clocks and announce it to the other services.

    `mediation` emits `case.submitted` (scheduling books a meeting); `mediation_declined`
    emits `case.mediation_declined` (certificates issues the adviser certificate, R6).

    With an `Idempotency-Key`, a retry with the same body gets the original case (200), also when retries
    arrive at the same time: the first stores the case, the others wait for it and then get it.
    """
    la_code = client.la_code or ""
    # A new key is the usual case: the key's unique constraint, not a read before every insert, finds a retry.
    # Whatever stops the insert (a validation error, the key already taken) looks the key up first, so a retry
    # still gets its original case back (or IdempotencyKeyReused) exactly as if it had been looked up first.
    try:  # a concurrent retry with the same key: its insert waits for the first, then violates the unique key
        case = await case_service.submit(session, body, la_code=la_code, key=key)
        await session.commit()
    except Exception:
        await session.rollback()
        if key is None:
            raise
        existing = await case_service.find_by_idempotency_key(session, la_code=la_code, key=key, body=body)
        if existing is None:
            raise
        response.status_code = 200
        return await _read(session, existing.id, la_code)
    return _read_new(session, case)


@router.get("/{case_id}", response_model=CaseRead, summary="Follow a case: its deadlines and timeline",
            responses={**case_service.CaseNotFound.response("No such case for this local authority"),
                       **AUTH_RESPONSES})
async def get_case(case_id: str, session: SessionDep, client: PortalReader) -> CaseRead:
    """The case with every step so far, from every service, in order. Another LA's case answers 404."""
    return await _read(session, case_id, client.la_code)


@router.get("", response_model=CasePage, summary="List this local authority's cases, newest first",
            responses={**AUTH_RESPONSES, **case_service.InvalidCursor.response()})
async def list_cases(
    session: SessionDep, client: PortalReader,
    status: CaseStatus | None = None, kind: CaseKind | None = None,
    deadline_before: Annotated[date | None, Query(
        description="Only cases with a statutory date (mediate_by, certificate due, appeal) before this day")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    cases, next_cursor = await case_service.list_for_la(
        session, la_code=client.la_code or "", limit=limit, status=status, kind=kind,
        deadline_before=deadline_before, cursor=cursor)
    return CasePage(items=[CaseSummary.model_validate(c) for c in cases], next_cursor=next_cursor)


CHANGE_RESPONSES = {**case_service.CaseNotFound.response(), **case_service.TransitionNotAllowed.response(),
                    **VALIDATION_RESPONSES, **AUTH_RESPONSES}


async def _change(session: SessionDep, client: ApiClient, case_id: str, action: rules.Action,
                  **details: object) -> CaseRead:
    case = await case_service.get_or_raise(session, case_id, la_code=client.la_code)
    await case_service.act(session, case, action, **details)  # type: ignore[arg-type]
    await session.commit()
    return await _read(session, case_id, client.la_code)


@router.post("/{case_id}/decline", response_model=CaseRead, responses=CHANGE_RESPONSES,
             summary="The parent or young person no longer wants mediation")
async def decline_mediation(case_id: str, body: DeclineMediation, session: SessionDep,
                            client: PortalWriter) -> CaseRead:
    """Emits `case.mediation_declined`: the adviser certificate is due 3 working days after `told_on` (R6)."""
    return await _change(session, client, case_id, rules.Action.decline_mediation, told_on=body.told_on)


@router.post("/{case_id}/mediation-request", response_model=CaseRead, responses=CHANGE_RESPONSES,
             summary="The parent or young person who declined now wants mediation")
async def request_mediation(case_id: str, body: RequestMediation, session: SessionDep,
                            client: PortalWriter) -> CaseRead:
    """Emits `case.submitted`; the 30 days run from `told_on` (R7, R8)."""
    return await _change(session, client, case_id, rules.Action.request_mediation, told_on=body.told_on,
                         mediation_issues=body.mediation_issues)


@router.post("/{case_id}/withdrawal", response_model=CaseRead, responses=CHANGE_RESPONSES,
             summary="Withdraw the case")
async def withdraw_case(case_id: str, body: Withdrawal, session: SessionDep, client: PortalWriter) -> CaseRead:
    """Emits `case.withdrawn`. A case whose certificate was issued or whose meeting concluded cannot be withdrawn."""
    return await _change(session, client, case_id, rules.Action.withdraw, reason=body.reason)


@router.post("/{case_id}/consents", response_model=CaseRead, responses=CHANGE_RESPONSES,
             summary="Record a party's consent to disagreement resolution")
async def record_consent(case_id: str, body: ConsentRecord, session: SessionDep, client: PortalWriter) -> CaseRead:
    """R21: a disagreement-resolution meeting is booked only once every party has consented.
    Emits `case.consent_recorded` naming the parties still missing."""
    case = await case_service.get_or_raise(session, case_id, la_code=client.la_code)
    await case_service.record_consent(session, case, role=body.role, consented_on=body.consented_on)
    await session.commit()
    return await _read(session, case_id, client.la_code)


@router.post("/{case_id}/health-notice", response_model=CaseRead,
             responses={**CHANGE_RESPONSES, **case_service.NoHealthNotice.response()},
             summary="Report the day the notice went to the health commissioning bodies")
async def record_health_notice(case_id: str, body: HealthNotice, session: SessionDep,
                               client: PortalWriter) -> CaseRead:
    """R8: by default the notice went on the day of submission (the system sends it). A health-only mediation's
    30 days run from the day the commissioning body receives it: when this day moves `mediate_by`, emits
    `case.deadlines_changed` (scheduling moves its last bookable day) and the timeline says why."""
    case = await case_service.get_or_raise(session, case_id, la_code=client.la_code)
    await case_service.record_health_notice(session, case, sent_on=body.sent_on)
    await session.commit()
    return await _read(session, case_id, client.la_code)


exemption_router = APIRouter(prefix="/v1/exemption-checks", tags=["cases"])


@exemption_router.post("", response_model=ExemptionAnswer, summary="Does this appeal need a mediation certificate?",
                       responses={**VALIDATION_RESPONSES, **AUTH_RESPONSES})
async def check_exemption(body: ExemptionCheck, _: PortalReader) -> ExemptionAnswer:
    """R3: an appeal only about the school or institution named, its type, or that none is named needs no
    certificate; the answer comes at once, with the reason and (for exempt cases) the appeal deadline (R17)."""
    requirement, deadline, reason = case_service.check_exemption(set(body.appeal_about),
                                                                 notice_sent_on=body.notice_sent_on)
    return ExemptionAnswer(certificate_required=requirement.certificate_required, reason=requirement.reason,
                           appeal_deadline=deadline, appeal_deadline_reason=reason)
