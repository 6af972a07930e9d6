"""Meetings: rows and outbox events in one transaction. Flush, never commit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.mediator.models import Mediator
from scheduling.meeting import rules
from scheduling.meeting.models import DisagreementResolutionRequest, Meeting, MeetingStatus
from scheduling.outbound import service as outbound_service
from shared.calendar import DEFAULT_CALENDAR
from shared.directory import load_directory
from shared.errors import Conflict, FieldError, InvalidRequest, NotFound
from shared.events import MeetingConcludedV1, MeetingScheduledV1
from shared.events.cases import CaseSubmittedV1
from shared.events.meetings import MeetingCancelledV1, MeetingDeadlineMissedV1
from shared.kafka.consumer import TransientError
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
    return await _book(session, case_id=case.case_id, reference=case.reference, la_code=case.la_code,
                       mediate_by=case.mediate_by, arranging_body=case.arranging_body,
                       health_issues=case.health_issues, kind="mediation", today=today, timezone=timezone)


async def _book(session: AsyncSession, *, case_id: str, reference: str, la_code: str, mediate_by: date | None,
                arranging_body: Literal["local_authority", "health_commissioning_body"], health_issues: bool,
                kind: str, today: date, timezone: str) -> Meeting:
    existing = (await session.exec(select(Meeting).where(
        Meeting.case_id == case_id, Meeting.status != MeetingStatus.cancelled))).first()
    if existing is not None:  # a redelivered event, or a case already mediated
        return existing
    authority = load_directory().get(la_code)
    if authority is None:
        raise InvalidRequest.field("la_code", f"unknown local authority {la_code}")
    provider = authority.mediation_provider
    candidates = (await session.exec(select(Mediator).where(Mediator.provider_id == provider.id))).all()
    choice = rules.choose_mediator(candidates)  # R13 mediators; R21 facilitators: the same independence
    if choice is None:
        raise NoIndependentMediator(provider.id or provider.name)
    if mediate_by is not None:  # R9, R11
        day = rules.choose_meeting_day(notice_given_on=today, mediate_by=mediate_by, calendar=DEFAULT_CALENDAR)
        earliest, late = day.day, day.late
    else:  # disagreement resolution: no statutory date, the same notice
        earliest, late = rules.earliest_meeting_day(today, DEFAULT_CALENDAR), False
    starts_at, ends_at = rules.meeting_times(earliest, ZoneInfo(timezone))
    meeting = Meeting(
        case_id=case_id, la_code=la_code, mediator_id=choice.mediator.id, kind=kind,
        assignment_reason=choice.reason[:500], arranging_body=arranging_body,  # R8: intake decides who arranges
        notice_given_on=today, mediate_by=mediate_by, starts_at=starts_at, ends_at=ends_at,
        location=f"Video call arranged by {provider.name}", late=late,
    )
    choice.mediator.last_booked_at = datetime.now(UTC)
    session.add_all([meeting, choice.mediator])
    add_event(session, MeetingScheduledV1(
        meeting_id=meeting.id, case_id=case_id, mediator_id=choice.mediator.id,
        mediator_name=choice.mediator.name, provider_name=provider.name, starts_at=starts_at, ends_at=ends_at,
        location=meeting.location, arranging_body=arranging_body,
    ), subject=case_id)
    if late and mediate_by is not None:  # R10: tell the adviser now; the R10 certificate is due within 3 working days
        log.warning("meeting.after_statutory_date", case_id=case_id, mediate_by=str(mediate_by))
        add_event(session, MeetingDeadlineMissedV1(
            case_id=case_id, meeting_id=meeting.id, mediate_by=mediate_by, earliest_possible_on=earliest,
            adviser_told_on=today, arranging_body=arranging_body), subject=case_id)
    await outbound_service.enqueue(session, provider_id=provider.id or "", case_id=case_id,
                                   type="case.referred", data={
                                       "case_id": case_id, "case_reference": reference, "kind": kind,
                                       "la_code": la_code, "meeting_id": meeting.id,
                                       "mediator_id": choice.mediator.id, "starts_at": starts_at.isoformat(),
                                       "ends_at": ends_at.isoformat(),
                                       "mediate_by": mediate_by.isoformat() if mediate_by else None,
                                       "health_issues": health_issues})
    await session.flush()
    return meeting


class ConsentMissing(Conflict):
    code = "consent_missing"
    title = "Disagreement resolution cannot be booked until every party has consented (R21)"


async def note_disagreement_resolution(session: AsyncSession, *, case_id: str, reference: str, la_code: str,
                                       dr_type: int, missing: list[str], today: date,
                                       timezone: str) -> Meeting | None:
    """R21: keep the request; book as soon as no party's consent is missing."""
    request = await session.get(DisagreementResolutionRequest, case_id) or DisagreementResolutionRequest(
        case_id=case_id, reference=reference, la_code=la_code, dr_type=dr_type)
    request.missing_consent = missing
    session.add(request)
    if missing:
        log.info("dr.awaiting_consent", case_id=case_id, missing=",".join(missing))
        return None
    return await book_disagreement_resolution(session, case_id, today=today, timezone=timezone)


async def get_disagreement_resolution(session: AsyncSession, case_id: str) -> DisagreementResolutionRequest:
    request = await session.get(DisagreementResolutionRequest, case_id)
    if request is None:  # consent recorded before the request arrived: retried by the consumer loop
        raise TransientError(f"disagreement-resolution request {case_id} not seen yet")
    return request


async def book_disagreement_resolution(session: AsyncSession, case_id: str, *, today: date,
                                       timezone: str) -> Meeting:
    request = await session.get(DisagreementResolutionRequest, case_id)
    if request is None:
        raise MeetingNotFound(f"no disagreement-resolution request for case {case_id}")
    if request.missing_consent:
        raise ConsentMissing("consent missing from: " + ", ".join(request.missing_consent),
                             errors=[FieldError(field="parties", reason=f"no recorded consent from the {role}")
                                     for role in request.missing_consent])
    return await _book(session, case_id=case_id, reference=request.reference, la_code=request.la_code,
                       mediate_by=None, arranging_body="local_authority", health_issues=request.dr_type == 3,
                       kind="disagreement_resolution", today=today, timezone=timezone)


async def cancel_for_case(session: AsyncSession, case_id: str, *, reason: str) -> Meeting | None:
    """The case was withdrawn or mediation declined: call off a booked meeting and tell the provider."""
    meeting = (await session.exec(select(Meeting).where(
        Meeting.case_id == case_id, Meeting.status == MeetingStatus.scheduled))).first()
    if meeting is None:
        return None
    meeting.status, meeting.cancelled_reason, meeting.sequence = MeetingStatus.cancelled, reason, meeting.sequence + 1
    session.add(meeting)
    add_event(session, MeetingCancelledV1(meeting_id=meeting.id, case_id=case_id, sequence=meeting.sequence,
                                          reason=reason), subject=case_id)
    mediator = await session.get(Mediator, meeting.mediator_id)
    await outbound_service.enqueue(session, provider_id=mediator.provider_id if mediator else "", case_id=case_id,
                                   type="meeting.cancelled",
                                   data={"case_id": case_id, "meeting_id": meeting.id, "reason": reason})
    return meeting


async def record_outcome(session: AsyncSession, *, meeting_id: str, held: bool, agreement: str,
                         concluded_on: date, resolved_issues: list[str] | None = None,
                         unresolved_issues: list[str] | None = None,
                         agreement_items: list[dict[str, Any]] | None = None, today: date | None = None) -> Meeting:
    """R15 trigger, R18 follow-ups, R19 resolved/unresolved issues; what was said stays out (R20)."""
    today = today or datetime.now(UTC).date()
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"no meeting {meeting_id}")
    if meeting.status is not MeetingStatus.scheduled:
        raise MeetingAlreadyConcluded(f"meeting {meeting_id} already concluded")
    errors = []
    if concluded_on > today:
        errors.append(FieldError(field="body.data.concluded_on", reason="must not be in the future"))
    if concluded_on < meeting.notice_given_on:  # R23: before the arranging body was told
        errors.append(FieldError(field="body.data.concluded_on",
                                 reason="must not be before the meeting was arranged"))
    items = agreement_items or []
    for index, item in enumerate(items):
        if item.get("agreed_timescale_days") is not None and not item.get("written_agreement"):
            errors.append(FieldError(field=f"body.data.agreement_items.{index}.written_agreement",
                                     reason="a different timescale must be agreed in writing (R18)"))
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)
    meeting.outcome = {
        "resolved_issues": resolved_issues or [], "unresolved_issues": unresolved_issues or [],
        "follow_ups": [
            {"kind": item["kind"], "step": f.step, "due_on": f.due_on.isoformat()}
            for item in items
            for f in rules.follow_ups(item["kind"], agreed_on=concluded_on,
                                      agreed_timescale_days=item.get("agreed_timescale_days"))
        ],
    }
    mediator = await session.get(Mediator, meeting.mediator_id)
    assert mediator is not None
    authority = load_directory().get(meeting.la_code)
    meeting.status, meeting.held, meeting.agreement, meeting.concluded_on = (
        MeetingStatus.concluded, held, agreement, concluded_on)
    session.add(meeting)
    add_event(session, MeetingConcludedV1(
        meeting_id=meeting.id, case_id=meeting.case_id, mediator_name=mediator.name,
        provider_name=authority.mediation_provider.name if authority else mediator.provider_id,
        concluded_on=concluded_on, held=held, agreement=agreement,
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
