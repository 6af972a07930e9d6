"""Meetings for council portals (their own cases) and operations (all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting import service as meeting_service
from scheduling.meeting.models import Meeting, MeetingChange, Referral
from scheduling.meeting.schemas import CapacityRead, ChangeRead, MeetingPage, MeetingRead
from scheduling.meeting.service import MeetingNotFound, ReferralNotFound
from shared import clock
from shared.auth import AUTH_RESPONSES, ApiClient, require_any_scope
from shared.deps import SessionDep

router = APIRouter(tags=["meetings"])
Reader = Annotated[ApiClient, Depends(require_any_scope("cases:read", "ops:read"))]


async def _read(session: AsyncSession, meeting: Meeting) -> MeetingRead:
    changes = (await session.exec(select(MeetingChange).where(MeetingChange.meeting_id == meeting.id)
                                  .order_by(col(MeetingChange.id)))).all()
    outcome = meeting.outcome or {}
    return MeetingRead.model_validate(meeting).model_copy(update={
        "follow_ups": outcome.get("follow_ups", []),
        "resolved_issues": outcome.get("resolved_issues", []), "unresolved_issues": outcome.get("unresolved_issues", []),
        "changes": [ChangeRead.model_validate(c) for c in changes]})


def _visible(meeting: Meeting, client: ApiClient) -> bool:
    return client.la_code is None or client.la_code == meeting.la_code


@router.get("/v1/meetings/{meeting_id}", response_model=MeetingRead, summary="One meeting, with its history",
            responses={**MeetingNotFound.response(), **AUTH_RESPONSES})
async def get_meeting(meeting_id: str, session: SessionDep, client: Reader) -> MeetingRead:
    """A council portal sees its own LA's meetings only. What was said in the meeting is never here (R20)."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or not _visible(meeting, client):
        raise MeetingNotFound(f"no meeting {meeting_id}")
    return await _read(session, meeting)


@router.get("/v1/cases/{case_id}/meetings", response_model=MeetingPage, responses=AUTH_RESPONSES,
            summary="Every meeting of a case, oldest first (a cancelled or missed one stays, with its reason)")
async def list_case_meetings(case_id: str, session: SessionDep, client: Reader) -> MeetingPage:
    meetings = (await session.exec(select(Meeting).where(Meeting.case_id == case_id)
                                   .order_by(col(Meeting.created_at)))).all()
    return MeetingPage(items=[await _read(session, m) for m in meetings if _visible(m, client)])


@router.get("/v1/cases/{case_id}/capacity", response_model=CapacityRead,
            summary="Capacity planning: how many more meetings the pool can take inside the case's window",
            responses={**ReferralNotFound.response("No referral for this case (or another LA's)"), **AUTH_RESPONSES})
async def case_capacity(case_id: str, request: Request, session: SessionDep, client: Reader) -> CapacityRead:
    """Counted for a booking made today: each eligible mediator's free slots on working days from the first day
    with full notice (R11) to the 30-day date, within their weekly capacity. Nothing is booked. A provider sizes
    its pool by it; 0 means the case cannot be mediated on time, and the adviser is told at booking (R10)."""
    referral = await session.get(Referral, case_id)
    if referral is None or not (client.la_code is None or client.la_code == referral.la_code):
        raise ReferralNotFound(f"no referral for case {case_id}")
    found = await meeting_service.capacity(session, case_id, today=clock.today(),
                                           timezone=request.app.state.runtime.settings.meeting_timezone)
    return CapacityRead(case_id=found.case_id, earliest=found.earliest, latest=found.latest,
                        bookable_meetings=found.bookable_meetings, eligible_mediators=len(found.by_mediator),
                        by_mediator=found.by_mediator)
