"""Meetings: rows and outbox events in one transaction. Flush, never commit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting import rules
from scheduling.meeting.models import Mediator, Meeting, MeetingStatus
from shared.calendar import DEFAULT_CALENDAR
from shared.directory import load_directory
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.events import MeetingConcludedV1, MeetingScheduledV1
from shared.events.cases import CaseSubmittedV1
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)


class NoIndependentMediator(Exception):
    """No active independent mediator is available for the provider (R13)."""


class MeetingNotFound(NotFound):
    title = "Meeting not found"


class MeetingAlreadyConcluded(Conflict):
    code = "meeting_already_concluded"
    title = "The meeting already has an outcome"


async def book_for_case(session: AsyncSession, case: CaseSubmittedV1, *, today: date, timezone: str) -> Meeting:
    """Assign an independent mediator and book a meeting with full notice (R8, R9, R11, R13)."""
    existing = (await session.exec(select(Meeting).where(Meeting.case_id == case.case_id))).first()
    if existing is not None:
        return existing
    authority = load_directory().get(case.la_code)
    if authority is None:
        raise InvalidRequest.field("la_code", f"unknown local authority {case.la_code}")
    provider = authority.mediation_provider
    candidates = (await session.exec(select(Mediator).where(Mediator.provider_id == provider.id))).all()
    choice = rules.choose_mediator(candidates)
    if choice is None:
        raise NoIndependentMediator(provider.id or provider.name)
    day = rules.choose_meeting_day(notice_given_on=today, mediate_by=case.mediate_by, calendar=DEFAULT_CALENDAR)
    if day.late:
        log.warning("meeting.after_statutory_date", case_id=case.case_id, mediate_by=str(case.mediate_by))
    starts_at, ends_at = rules.meeting_times(day.day, ZoneInfo(timezone))
    meeting = Meeting(
        case_id=case.case_id, la_code=case.la_code, mediator_id=choice.mediator.id,
        assignment_reason=choice.reason[:500],
        arranging_body="local_authority",  # R8 health-only routing comes with the scheduling issue
        notice_given_on=today, mediate_by=case.mediate_by, starts_at=starts_at, ends_at=ends_at,
        location=f"Video call arranged by {provider.name}", late=day.late,
    )
    choice.mediator.last_booked_at = datetime.now(UTC)
    session.add_all([meeting, choice.mediator])
    add_event(session, MeetingScheduledV1(
        meeting_id=meeting.id, case_id=case.case_id, mediator_id=choice.mediator.id,
        mediator_name=choice.mediator.name, provider_name=provider.name, starts_at=starts_at, ends_at=ends_at,
        location=meeting.location, arranging_body="local_authority",
    ), subject=case.case_id)
    await session.flush()
    return meeting


async def record_outcome(session: AsyncSession, *, meeting_id: str, held: bool, agreement: str,
                         concluded_on: date) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"no meeting {meeting_id}")
    if meeting.status is not MeetingStatus.scheduled:
        raise MeetingAlreadyConcluded(f"meeting {meeting_id} already concluded")
    mediator = await session.get(Mediator, meeting.mediator_id)
    assert mediator is not None
    authority = load_directory().get(meeting.la_code)
    meeting.status, meeting.held, meeting.agreement, meeting.concluded_on = (
        MeetingStatus.concluded, held, agreement, concluded_on)
    session.add(meeting)
    add_event(session, MeetingConcludedV1(
        meeting_id=meeting.id, case_id=meeting.case_id, mediator_name=mediator.name,
        provider_name=authority.mediation_provider.name if authority else mediator.provider_id,
        concluded_on=concluded_on, held=held, agreement=agreement,  # type: ignore[arg-type]
    ), subject=meeting.case_id)
    await session.flush()
    return meeting


async def seed_mediators(session: AsyncSession, path: Path) -> int:
    """Insert the development pool; existing mediators are left as they are."""
    entries = yaml.safe_load(path.read_text())["mediators"]
    added = 0
    for entry in entries:
        if await session.get(Mediator, entry["id"]) is None:
            session.add(Mediator(**entry))
            added += 1
    return added
