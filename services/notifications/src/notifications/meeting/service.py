"""Meetings as notifications knows them: enough to keep one calendar entry per meeting up to date."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.meeting.models import InvitationStatus, MeetingInvitation
from notifications.message.rendering import LONDON
from shared import clock
from shared.events.meetings import MeetingRescheduledV1, MeetingScheduledV1


def calendar_uid(meeting_id: str, domain: str) -> str:
    return f"{meeting_id}@{domain}"


async def get(session: AsyncSession, meeting_id: str) -> MeetingInvitation | None:
    return await session.get(MeetingInvitation, meeting_id)


async def record_booking(session: AsyncSession, data: MeetingScheduledV1, *, domain: str) -> MeetingInvitation:
    """The first invitation (SEQUENCE 0); a repeated booking of the same meeting changes nothing."""
    meeting = await get(session, data.meeting_id)
    if meeting is not None:
        return meeting
    meeting = MeetingInvitation(
        meeting_id=data.meeting_id, case_id=data.case_id, uid=calendar_uid(data.meeting_id, domain),
        starts_at=data.starts_at, ends_at=data.ends_at, location=data.location,
        mediator_name=data.mediator_name, provider_name=data.provider_name, kind=data.kind,
        arranging_body=data.arranging_body, mediator_email=data.mediator_email,
    )
    session.add(meeting)
    return meeting


async def record_move(session: AsyncSession, data: MeetingRescheduledV1, *, domain: str) -> MeetingInvitation:
    """Same UID, higher SEQUENCE: at least one more than what we last sent, and never below scheduling's count."""
    meeting = await get(session, data.meeting_id)
    if meeting is None:  # booked before notifications knew of it: the update stands on its own
        meeting = MeetingInvitation(meeting_id=data.meeting_id, case_id=data.case_id, uid=calendar_uid(data.meeting_id, domain),
                          sequence=data.sequence - 1, starts_at=data.starts_at, ends_at=data.ends_at,
                          location=data.location)
    meeting.sequence = max(meeting.sequence + 1, data.sequence)
    meeting.starts_at, meeting.ends_at, meeting.location = data.starts_at, data.ends_at, data.location
    meeting.updated_at = clock.now()
    session.add(meeting)
    return meeting


def record_cancellation(session: AsyncSession, meeting: MeetingInvitation, *, sequence: int) -> MeetingInvitation:
    meeting.sequence = max(meeting.sequence + 1, sequence)
    meeting.status = InvitationStatus.cancelled
    meeting.updated_at = clock.now()
    session.add(meeting)
    return meeting


def invitation(meeting: MeetingInvitation, *, method: str) -> dict[str, Any]:
    """What the sender needs to build the .ics, frozen into the message so a resend is identical."""
    return {"uid": meeting.uid, "sequence": meeting.sequence, "method": method,
            "starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat(),
            "location": meeting.location, "summary": f"SEND {meeting_words(meeting.kind)}"}


def meeting_words(kind: str) -> str:
    return "disagreement resolution meeting" if kind == "disagreement_resolution" else "mediation meeting"


async def latest_booked(session: AsyncSession, case_id: str) -> MeetingInvitation | None:
    """The case's meeting still booked, if any (the last one booked)."""
    return (await session.exec(
        select(MeetingInvitation).where(MeetingInvitation.case_id == case_id,
                                        MeetingInvitation.status == InvitationStatus.booked)
        .order_by(col(MeetingInvitation.updated_at).desc()).limit(1)
    )).first()


def details(meeting: MeetingInvitation) -> dict[str, Any]:
    """When, where and who, in the words the email bodies use (London time)."""
    starts_at, ends_at = meeting.starts_at.astimezone(LONDON), meeting.ends_at.astimezone(LONDON)
    return {"starts_at": starts_at.strftime("%A %-d %B %Y, %H:%M"), "ends_at": ends_at.strftime("%H:%M"),
            "location": meeting.location, "mediator_name": meeting.mediator_name,
            "provider_name": meeting.provider_name, "meeting_words": meeting_words(meeting.kind)}
