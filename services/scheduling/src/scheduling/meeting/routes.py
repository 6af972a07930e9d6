"""Meetings for council portals (their own cases) and operations (all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting.models import Meeting, MeetingChange
from scheduling.meeting.schemas import ChangeRead, MeetingPage, MeetingRead
from scheduling.meeting.service import MeetingNotFound
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
