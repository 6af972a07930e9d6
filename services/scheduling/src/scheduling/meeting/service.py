"""Meetings: rows and outbox events in one transaction. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.mediator import rules as mediator_rules
from scheduling.mediator import service as mediator_service
from scheduling.mediator.models import Mediator
from scheduling.meeting import rules
from scheduling.meeting.models import DisagreementResolutionRequest, Meeting, MeetingChange, MeetingStatus, Referral
from scheduling.outbound import service as outbound_service
from shared import clock
from shared.calendar import DEFAULT_CALENDAR
from shared.db import advisory_xact_lock, insert_added, is_sqlite, mark_written, row_values
from shared.directory import load_directory
from shared.errors import Conflict, FieldError, InvalidRequest, NotFound
from shared.events import MeetingConcludedV1, MeetingScheduledV1
from shared.events.cases import ReferralSubmittedV1
from shared.events.meetings import (
    MeetingCancelledV1,
    MeetingDeadlineBreachedV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    MeetingRescheduledV1,
    TimelineMeetingConcludedV1,
    TimelineMeetingScheduledV1,
)
from shared.kafka.consumer import TransientError
from shared.logging import get_logger
from shared.outage import sqlstate
from shared.outbox import add_event

log = get_logger(__name__)


#: Disagreement resolution has no statutory date: look this far past the earliest day before calling it late.
DR_BOOKING_WINDOW = timedelta(days=28)


class MeetingNotFound(NotFound):
    title = "Meeting not found"


class MeetingAlreadyConcluded(Conflict):
    code = "meeting_already_concluded"
    title = "The meeting already has an outcome"


class MediatorDoubleBooked(Conflict):
    code = "mediator_already_booked"
    title = "The mediator is already booked at that time"


#: SQLSTATE exclusion_violation: the constraint ex_meetings_mediator_overlap (PostgreSQL) refused the booking.
EXCLUSION_VIOLATION = "23P01"
#: No two scheduled meetings of one mediator overlap (PostgreSQL; migration ``no_overlapping_bookings``).
OVERLAP_CONSTRAINT = "ex_meetings_mediator_overlap"
#: How many times the assignment looks again after a concurrent booking took its slot.
BOOKING_ATTEMPTS = 5


async def _overlapping(session: AsyncSession, *, mediator_id: str, starts_at: datetime, ends_at: datetime,
                       except_id: str | None = None) -> Meeting | None:
    """A scheduled meeting of the mediator that overlaps ``starts_at``-``ends_at`` (a meeting may start as
    another ends)."""
    query = select(Meeting).where(Meeting.mediator_id == mediator_id, Meeting.status == MeetingStatus.scheduled,
                                  col(Meeting.starts_at) < ends_at, col(Meeting.ends_at) > starts_at)
    if except_id is not None:
        query = query.where(Meeting.id != except_id)
    return (await session.exec(query.limit(1))).first()


async def _save_booking(session: AsyncSession, meeting: Meeting, mediator: Mediator | None = None) -> bool:
    """Write a booking (and, with ``mediator``, when that mediator was last booked); False if a concurrent
    booking of the same mediator at an overlapping time won.

    On PostgreSQL the exclusion constraint decides and the transaction goes on either way. A new meeting is
    one statement: inserted unless the constraint refuses it (``ON CONFLICT ON CONSTRAINT ... DO NOTHING``),
    the mediator's row changed only if it was (a savepoint, the insert, the update and the savepoint's
    release were four round trips, under the assignment's lock). A meeting moved in time is written inside a
    savepoint. Either way a refused attempt leaves the mediator's row unlocked: locked while the next slot or
    mediator is tried, two replicas trying each other's mediators would deadlock. SQLite runs one writer at a
    time with serializable transactions, so the diary read before is enough there.
    """
    def write() -> None:
        session.add(meeting)
        if mediator is not None:
            mediator.last_booked_at = clock.now()
            session.add(mediator)

    bind = session.bind
    if bind is not None and is_sqlite(bind):  # type: ignore[arg-type]
        write()
        await session.flush()
        return True
    if sa_inspect(meeting).transient:
        return await _insert_booking(session, meeting, mediator)
    try:
        async with session.begin_nested():
            write()
    except IntegrityError as exc:
        if sqlstate(exc) == EXCLUSION_VIOLATION:
            return False
        raise
    return True


async def _insert_booking(session: AsyncSession, meeting: Meeting, mediator: Mediator | None) -> bool:
    row = row_values(meeting)
    assert row is not None
    _, values = row
    now = clock.now()
    params = {f"m_{key}": value for key, value in values.items()}
    if mediator is not None:
        params["b_last_booked_at"] = now
    # What is pending is flushed first (as a savepoint would), unless the caller holds it back (``_book``).
    written = (await session.exec(_booking_statement(tuple(values), mediator is not None), params=params)).first()
    if written is None:
        return False
    mark_written(session, meeting)
    if mediator is not None:
        set_committed_value(mediator, "last_booked_at", now)  # as written, not a change still to flush
    return True


@lru_cache(maxsize=16)
def _booking_statement(columns: tuple[str, ...], with_mediator: bool) -> Any:
    """Insert a meeting unless it overlaps another of its mediator's (and then stamp the mediator), built once
    per set of columns; returns a row only when the meeting was written."""
    meetings: Table = Meeting.__table__  # type: ignore[attr-defined]
    booked = (postgresql_insert(meetings)
              .values({key: bindparam(f"m_{key}", type_=meetings.c[key].type) for key in columns})
              .on_conflict_do_nothing(constraint=OVERLAP_CONSTRAINT)
              .returning(meetings.c.mediator_id))
    if not with_mediator:
        return booked
    mediators: Table = Mediator.__table__  # type: ignore[attr-defined]
    written = booked.cte("booked")
    return (update(mediators)
            .where(mediators.c.id.in_(select(written.c.mediator_id).scalar_subquery()))
            .values(last_booked_at=bindparam("b_last_booked_at", type_=mediators.c.last_booked_at.type))
            .returning(mediators.c.id))


def _double_booked(mediator_id: str) -> MediatorDoubleBooked:
    reason = f"mediator {mediator_id} is already booked for another meeting at an overlapping time"
    return MediatorDoubleBooked(reason, errors=[FieldError(field="body.data.starts_at", reason=reason)])


async def book_for_case(session: AsyncSession, case: ReferralSubmittedV1, *, today: date,
                       timezone: str) -> Meeting | None:
    """Refer the case to the LA's provider, assign an independent mediator and book provisionally (R8, R9, R11,
    R13). The provider confirms or changes the booking with its ``meeting.booked`` webhook."""
    authority = load_directory().get(case.la_code)
    if authority is None:
        raise InvalidRequest.field("la_code", f"unknown local authority {case.la_code}")
    referral = await session.get(Referral, case.case_id)
    if referral is None:
        referral = Referral(case_id=case.case_id, reference=case.reference, la_code=case.la_code,
                            provider_id=authority.mediation_provider.id or "", arranging_body=case.arranging_body,
                            referred_on=today)
    elif referral.mediate_by != case.mediate_by:  # asked again after declining: a new 30 days (R7, R8)
        referral.adviser_told_on = referral.breach_raised_on = referral.closed_reason = None
    referral.mediate_by, referral.health_issues, referral.arranging_body = (
        case.mediate_by, case.health_issues, case.arranging_body)
    referral.needs = {"languages": list(case.languages), "accessibility_needs": list(case.accessibility_needs),
                      "school_urn": case.school_urn}
    session.add(referral)
    return await _book(session, referral, kind="mediation", today=today, timezone=timezone)


async def move_deadline(session: AsyncSession, case_id: str, *, mediate_by: date, today: date,
                        timezone: str) -> Referral | None:
    """A trigger of the 30 days changed (R8: the day the health commissioning body received the LA's notice):
    the referral and any booked meeting take the new ``mediate_by`` (whose last working day is the last
    bookable day, R9), and a booked meeting's lateness is reckoned again. A meeting inside the new window is
    not late; one that now falls after it tells the adviser (R10). A breach raised against the old date
    no longer stands: the day-30 watch looks again on the new one."""
    referral = await session.get(Referral, case_id)
    if referral is None or referral.kind != "mediation":
        log.info("meeting.deadline_change_ignored", case_id=case_id)
        return None
    if referral.breach_raised_on is not None and mediate_by > referral.breach_raised_on:
        referral.breach_raised_on = None
    referral.mediate_by = mediate_by
    session.add(referral)
    meeting = await _active_meeting(session, case_id)
    if meeting is not None:
        day = meeting.starts_at.astimezone(ZoneInfo(timezone)).date()
        meeting.mediate_by, meeting.late = mediate_by, day > mediate_by
        session.add(meeting)
        if meeting.late:
            _tell_adviser(session, referral, meeting, earliest_possible_on=day, today=today)
    log.info("meeting.deadline_moved", case_id=case_id, mediate_by=str(mediate_by))
    await session.flush()
    return referral


def _needs(referral: Referral) -> mediator_rules.Needs:
    """What the mediator must meet for this case, as the assignment rules read it."""
    return mediator_rules.Needs(provider_id=referral.provider_id, la_code=referral.la_code,
                                school_urn=referral.needs.get("school_urn"),
                                languages=tuple(referral.needs.get("languages", ())),
                                accessibility_needs=tuple(referral.needs.get("accessibility_needs", ())))


async def _active_meeting(session: AsyncSession, case_id: str) -> Meeting | None:
    return (await session.exec(select(Meeting).where(
        Meeting.case_id == case_id, Meeting.status == MeetingStatus.scheduled))).first()


async def _book(session: AsyncSession, referral: Referral, *, kind: str, today: date,
                timezone: str) -> Meeting | None:
    """A provisional booking with the fairest eligible mediator; none when nobody fits (independence, conflicts,
    needs, capacity): the referral then asks the provider to find someone, and day 30 is still watched.

    Nothing is flushed on the way (the reads below would each write what is pending first): the referral,
    when new, is written with the webhook, the events and the change in the last statement (``insert_added``).
    """
    with session.no_autoflush:
        # A case referred in this transaction has no meeting: meetings are booked only for referred cases, and
        # a referral is never deleted.
        existing = None if sa_inspect(referral).pending else (await session.exec(select(Meeting).where(
            Meeting.case_id == referral.case_id, Meeting.status != MeetingStatus.cancelled))).first()
        if existing is not None:  # a redelivered event, or a case already mediated
            return existing
        authority = load_directory().get(referral.la_code)
        assert authority is not None
        provider = authority.mediation_provider
        earliest = rules.earliest_meeting_day(today, DEFAULT_CALENDAR)  # R11: 5 clear working days
        # R9: the last working day on or before the 30-day date; disagreement resolution has no statutory date.
        latest = referral.mediate_by or earliest + DR_BOOKING_WINDOW
        # One assignment at a time per provider's pool, across replicas (until commit): replicas assigning at once
        # would otherwise all rank the same mediator and slot first, and all but one lose every attempt. A
        # provider's own booking (webhook) is not serialized: the exclusion constraint and the retry below decide.
        await advisory_xact_lock(session, f"scheduling.assignment:{referral.provider_id}")
        for _ in range(BOOKING_ATTEMPTS):
            assignment = await mediator_service.assign(session, _needs(referral), earliest=earliest, latest=latest,
                                                       timezone=timezone)
            if assignment.mediator is None or assignment.slot is None:
                log.warning("meeting.no_mediator_assigned", case_id=referral.case_id)
                await _refer(session, referral, None, kind=kind, assignment=assignment.explanation)
                await session.flush()
                return None
            mediator, slot = assignment.mediator, assignment.slot
            late = (referral.mediate_by is not None
                    and slot.starts_at.astimezone(ZoneInfo(timezone)).date() > referral.mediate_by)
            meeting = Meeting(
                case_id=referral.case_id, la_code=referral.la_code, mediator_id=mediator.id, kind=kind,
                assignment_reason=assignment.reason, assignment=assignment.explanation,
                arranging_body=referral.arranging_body,  # R8: intake decides who arranges
                notice_given_on=today, mediate_by=referral.mediate_by, starts_at=slot.starts_at, ends_at=slot.ends_at,
                location=f"Video call arranged by {provider.name}", late=late,
            )
            if await _save_booking(session, meeting, mediator):
                break
            # Another replica booked this mediator at this time first: its booking is committed, so the diaries
            # read again show it and the assignment chooses the next slot or mediator.
            log.info("meeting.slot_taken_concurrently", case_id=referral.case_id, mediator_id=meeting.mediator_id)
        else:
            raise TransientError("every slot chosen was taken by a concurrent booking")
        await _refer(session, referral, meeting, kind=kind, assignment=assignment.explanation)  # reads: first
        _announce_booking(session, meeting, mediator, provider_name=provider.name, health_issues=referral.health_issues)
        _record_change(session, meeting, "booked", reason="referral", by="system")
        if late:  # R10: tell the adviser now; the certificate is due within 3 working days
            _tell_adviser(session, referral, meeting, earliest_possible_on=slot.starts_at.astimezone(ZoneInfo(timezone)).date(),
                          today=today)
        await insert_added(session)  # the webhook, the events and the change in one statement
        return meeting


async def _refer(session: AsyncSession, referral: Referral, meeting: Meeting | None, *, kind: str,
                 assignment: dict[str, Any]) -> None:
    """The signed ``case.referred`` webhook to the LA's provider: the provisional booking, or none to make."""
    await outbound_service.enqueue(session, provider_id=referral.provider_id, case_id=referral.case_id,
                                   type="case.referred", data={
                                       "case_id": referral.case_id, "case_reference": referral.reference,
                                       "kind": kind, "la_code": referral.la_code,
                                       "meeting_id": meeting.id if meeting else None,
                                       "mediator_id": meeting.mediator_id if meeting else None,
                                       "starts_at": meeting.starts_at.isoformat() if meeting else None,
                                       "ends_at": meeting.ends_at.isoformat() if meeting else None,
                                       "mediate_by": referral.mediate_by.isoformat() if referral.mediate_by else None,
                                       "health_issues": referral.health_issues, "needs": referral.needs,
                                       "unassigned": None if meeting else assignment.get("considered", [])})


def _announce_booking(session: AsyncSession, meeting: Meeting, mediator: Mediator, *, provider_name: str,
                      health_issues: bool) -> None:
    add_event(session, MeetingScheduledV1(
        meeting_id=meeting.id, case_id=meeting.case_id, mediator_id=mediator.id, mediator_name=mediator.name,
        mediator_email=mediator.email, provider_name=provider_name, starts_at=meeting.starts_at,
        ends_at=meeting.ends_at, location=meeting.location,
        arranging_body=meeting.arranging_body,
        kind=meeting.kind,
        short_notice_consented=meeting.short_notice_consent_on is not None, health_issues=health_issues,
        la_code=meeting.la_code,
    ), subject=meeting.case_id)
    add_event(session, TimelineMeetingScheduledV1(  # intake's copy: no contact details
        meeting_id=meeting.id, case_id=meeting.case_id, provider_name=provider_name, starts_at=meeting.starts_at,
        ends_at=meeting.ends_at, kind=meeting.kind,
    ), subject=meeting.case_id)


def _record_change(session: AsyncSession, meeting: Meeting, change: str, *, reason: str, by: str) -> None:
    session.add(MeetingChange(meeting_id=meeting.id, sequence=meeting.sequence, change=change, reason=reason, by=by))


def _tell_adviser(session: AsyncSession, referral: Referral, meeting: Meeting | None, *,
                  earliest_possible_on: date | None, today: date) -> None:
    """R10: the 30-day date cannot be met; the adviser is told at once, once (the certificate follows)."""
    if referral.adviser_told_on is not None or referral.mediate_by is None:
        return
    referral.adviser_told_on = today
    session.add(referral)
    log.warning("meeting.after_statutory_date", case_id=referral.case_id, mediate_by=str(referral.mediate_by))
    add_event(session, MeetingDeadlineMissedV1(
        case_id=referral.case_id, meeting_id=meeting.id if meeting else None, mediate_by=referral.mediate_by,
        earliest_possible_on=earliest_possible_on, adviser_told_on=today,
        arranging_body=referral.arranging_body,
    ), subject=referral.case_id)


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
                                       timezone: str) -> Meeting | None:
    request = await session.get(DisagreementResolutionRequest, case_id)
    if request is None:
        raise MeetingNotFound(f"no disagreement-resolution request for case {case_id}")
    _require_consent(request)
    referral = await session.get(Referral, case_id)
    if referral is None:
        authority = load_directory().get(request.la_code)
        if authority is None:
            raise InvalidRequest.field("la_code", f"unknown local authority {request.la_code}")
        referral = Referral(case_id=case_id, reference=request.reference, la_code=request.la_code,
                            provider_id=authority.mediation_provider.id or "", kind="disagreement_resolution",
                            arranging_body="local_authority", health_issues=request.dr_type == 3, referred_on=today)
        session.add(referral)
    return await _book(session, referral, kind="disagreement_resolution", today=today, timezone=timezone)


def _require_consent(request: DisagreementResolutionRequest) -> None:
    """R21: refused until every party has consented; the refusal names each missing party."""
    problems = rules.consent_problems(request.missing_consent)
    if problems:
        raise ConsentMissing("consent missing from: " + ", ".join(request.missing_consent),
                             errors=[FieldError(field=p.field, reason=p.reason) for p in problems])


async def cancel_for_case(session: AsyncSession, case_id: str, *, reason: str) -> Meeting | None:
    """The case was withdrawn or mediation declined: nothing more to arrange or watch; call off a booked
    meeting and tell the provider."""
    referral = await session.get(Referral, case_id)
    if referral is not None:
        referral.closed_reason = reason
        session.add(referral)
    meeting = await _active_meeting(session, case_id)
    if meeting is None:
        return None
    await _cancel(session, meeting, reason=reason, by="system")
    mediator = await session.get(Mediator, meeting.mediator_id)
    await outbound_service.enqueue(session, provider_id=mediator.provider_id if mediator else "", case_id=case_id,
                                   type="meeting.cancelled",
                                   data={"case_id": case_id, "meeting_id": meeting.id, "reason": reason})
    return meeting


async def _cancel(session: AsyncSession, meeting: Meeting, *, reason: str, by: str) -> None:
    meeting.status, meeting.cancelled_reason, meeting.sequence = MeetingStatus.cancelled, reason, meeting.sequence + 1
    session.add(meeting)
    _record_change(session, meeting, "cancelled", reason=reason, by=by)
    add_event(session, MeetingCancelledV1(meeting_id=meeting.id, case_id=meeting.case_id, sequence=meeting.sequence,
                                          reason=reason), subject=meeting.case_id)


async def record_outcome(session: AsyncSession, *, meeting_id: str, held: bool, agreement: str,
                         concluded_on: date, resolved_issues: list[str] | None = None,
                         unresolved_issues: list[str] | None = None,
                         agreement_items: list[dict[str, Any]] | None = None, today: date | None = None) -> Meeting:
    """R15 trigger, R18 follow-ups, R19 resolved/unresolved issues; what was said stays out (R20)."""
    today = today or clock.today()
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"no meeting {meeting_id}")
    if meeting.status is MeetingStatus.concluded:
        raise MeetingAlreadyConcluded(f"meeting {meeting_id} already concluded")
    if meeting.status is not MeetingStatus.scheduled:
        raise MeetingNotScheduled(f"meeting {meeting_id} is {meeting.status.value}")
    errors = []
    meeting_day = clock.london_date(meeting.starts_at)
    if meeting_day > today:  # an outcome follows the meeting; the provider books again if it moved
        errors.append(FieldError(field="body.data.meeting_id",
                                 reason=f"the meeting is on {meeting_day.isoformat()} and has not taken place yet"))
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
    _record_change(session, meeting, "concluded", reason="held" if held else "not_held", by="provider")
    add_event(session, MeetingConcludedV1(
        meeting_id=meeting.id, case_id=meeting.case_id, mediator_name=mediator.name,
        provider_name=authority.mediation_provider.name if authority else mediator.provider_id,
        concluded_on=concluded_on, held=held, agreement=agreement,
    ), subject=meeting.case_id)
    add_event(session, TimelineMeetingConcludedV1(meeting_id=meeting.id, case_id=meeting.case_id,
                                                  concluded_on=concluded_on, held=held, agreement=agreement),
              subject=meeting.case_id)
    await session.flush()
    return meeting


# --- What the provider reports: bookings, changes, no-shows ---------------------------------------------------


class ReferralNotFound(NotFound):
    title = "No referral for this case"


class MeetingNotScheduled(Conflict):
    code = "meeting_not_scheduled"
    title = "The meeting is no longer scheduled (cancelled, not attended or concluded)"


class CaseClosed(Conflict):
    code = "case_closed"
    title = "The case was withdrawn or mediation declined: there is nothing to book"


@dataclass(frozen=True)
class Booking:
    """What the provider booked: the time, the place, who comes (R12, R14) and any consent to short notice (R11)."""

    starts_at: datetime
    ends_at: datetime
    venue: str | None = None
    remote_url: str | None = None
    mediator_id: str | None = None
    attendees: list[dict[str, Any]] | None = None
    child_views: dict[str, Any] | None = None
    short_notice_consent_on: date | None = None

    @property
    def location(self) -> str:
        return self.venue if self.venue else f"Video call: {self.remote_url}"


def _problems_as_error(problems: list[rules.Problem], prefix: str) -> InvalidRequest:
    errors = [FieldError(field=f"{prefix}.{p.field}", reason=p.reason) for p in problems]
    return InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)


def _check_time(booking: Booking, *, today: date, timezone: str) -> tuple[date, list[rules.Problem]]:
    problems = []
    if booking.ends_at <= booking.starts_at:
        problems.append(rules.Problem("ends_at", "must be after starts_at"))
    day = booking.starts_at.astimezone(ZoneInfo(timezone)).date()
    notice = rules.notice_problem(notice_given_on=today, day=day,  # R11, R23: never before today's notice
                                  short_notice_consent_on=booking.short_notice_consent_on, calendar=DEFAULT_CALENDAR)
    if notice is not None:
        problems.append(notice)
    return day, problems


async def provider_book(session: AsyncSession, case_id: str, booking: Booking, *, provider_id: str, today: date,
                        timezone: str) -> Meeting:
    """The provider's booking for a referred case: confirms or changes the provisional booking, or books anew
    after a cancellation or no-show. Refused whole, naming each field, if it breaks R11, R12, R13 or R14."""
    referral = await session.get(Referral, case_id)
    if referral is not None and referral.provider_id != provider_id:
        referral = None  # another provider's case: as if it did not exist
    if referral is None:
        waiting = await session.get(DisagreementResolutionRequest, case_id)
        if waiting is not None:  # R21: not referred until every party consents
            _require_consent(waiting)
        raise ReferralNotFound(f"case {case_id} was never referred to the provider")
    if referral.closed_reason is not None:
        raise CaseClosed(f"case {case_id} is closed ({referral.closed_reason})")
    if (await session.exec(select(Meeting).where(Meeting.case_id == case_id,
                                                 Meeting.status == MeetingStatus.concluded))).first() is not None:
        raise MeetingAlreadyConcluded(f"case {case_id} has already been mediated")
    meeting = await _active_meeting(session, case_id)
    day, problems = _check_time(booking, today=today, timezone=timezone)
    mediator_id = booking.mediator_id or (meeting.mediator_id if meeting else None)
    mediator = await session.get(Mediator, mediator_id) if mediator_id else None
    if mediator is None or mediator.provider_id != referral.provider_id:
        problems.append(rules.Problem("mediator_id", "not a mediator of this provider"))
    else:  # R13 and R23, conflicts with the LA or school, the case's language and accessibility needs
        problems += [rules.Problem("mediator_id", reason)
                     for reason in mediator_rules.refusals(mediator, _needs(referral))]
    attendees = booking.attendees or []
    problems += rules.attendance_problems(attendees, kind=referral.kind, arranging_body=referral.arranging_body,
                                          health_issues=referral.health_issues)
    child_views = rules.child_views_problem(booking.child_views, kind=referral.kind, attendees=attendees)
    if child_views is not None:
        problems.append(child_views)
    if problems:
        raise _problems_as_error(problems, "body.data")
    assert mediator is not None
    if await _overlapping(session, mediator_id=mediator.id, starts_at=booking.starts_at, ends_at=booking.ends_at,
                          except_id=meeting.id if meeting is not None else None) is not None:
        raise _double_booked(mediator.id)
    late = referral.mediate_by is not None and day > referral.mediate_by
    provider_name = _provider_name(referral.la_code, mediator)
    if meeting is not None and meeting.mediator_id != mediator.id:
        # Another mediator: the old booking is withdrawn (its invitations cancelled, the old mediator's included)
        # and a new one made, so that every party's calendar and inbox name the right mediator.
        await _cancel(session, meeting, reason="mediator_changed", by="provider")
        meeting = None
    if meeting is None:
        meeting = Meeting(case_id=case_id, la_code=referral.la_code, mediator_id=mediator.id, kind=referral.kind,
                          assignment_reason="chosen by the provider", assignment={"chosen": mediator.id, "by": "provider"},
                          arranging_body=referral.arranging_body, notice_given_on=today, mediate_by=referral.mediate_by,
                          starts_at=booking.starts_at, ends_at=booking.ends_at, location=booking.location[:300])
        created = True
    else:
        created = False
    moved = not created and (meeting.starts_at != booking.starts_at or meeting.ends_at != booking.ends_at
                             or meeting.location != booking.location)
    meeting.mediator_id, meeting.starts_at, meeting.ends_at = mediator.id, booking.starts_at, booking.ends_at
    meeting.location, meeting.venue, meeting.remote_url = booking.location[:300], booking.venue, booking.remote_url
    meeting.attendees, meeting.child_views = attendees, booking.child_views
    meeting.short_notice_consent_on, meeting.booked_by, meeting.late = booking.short_notice_consent_on, "provider", late
    if moved:
        meeting.sequence += 1
        meeting.notice_given_on = today
    if not await _save_booking(session, meeting, mediator):
        raise _double_booked(mediator.id)
    if created:
        _announce_booking(session, meeting, mediator, provider_name=provider_name,
                          health_issues=referral.health_issues)
        _record_change(session, meeting, "booked", reason="booked_by_provider", by="provider")
    elif moved:
        _announce_move(session, meeting, reason="booked_by_provider")
    else:
        _record_change(session, meeting, "confirmed", reason="booked_by_provider", by="provider")
    if late:
        _tell_adviser(session, referral, meeting, earliest_possible_on=day, today=today)
    await session.flush()
    return meeting


def _announce_move(session: AsyncSession, meeting: Meeting, *, reason: str) -> None:
    _record_change(session, meeting, "rescheduled", reason=reason, by="provider")
    add_event(session, MeetingRescheduledV1(
        meeting_id=meeting.id, case_id=meeting.case_id, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        location=meeting.location, sequence=meeting.sequence, reason=reason), subject=meeting.case_id)


def _provider_name(la_code: str, mediator: Mediator) -> str:
    authority = load_directory().get(la_code)
    return authority.mediation_provider.name if authority else mediator.provider_id


async def check_provider(session: AsyncSession, meeting_id: str, provider_id: str) -> None:
    """A provider sees and changes only the meetings of its own mediators."""
    meeting = await session.get(Meeting, meeting_id)
    mediator = await session.get(Mediator, meeting.mediator_id) if meeting else None
    if mediator is None or mediator.provider_id != provider_id:
        raise MeetingNotFound(f"no meeting {meeting_id}")


async def _scheduled(session: AsyncSession, meeting_id: str) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"no meeting {meeting_id}")
    if meeting.status is not MeetingStatus.scheduled:
        raise MeetingNotScheduled(f"meeting {meeting_id} is {meeting.status.value}")
    return meeting


async def provider_reschedule(session: AsyncSession, meeting_id: str, booking: Booking, *, reason: str,
                              today: date, timezone: str) -> Meeting:
    """A new time or place, with its reason; R11's notice runs again from today (or consent is recorded)."""
    meeting = await _scheduled(session, meeting_id)
    day, problems = _check_time(booking, today=today, timezone=timezone)
    if problems:
        raise _problems_as_error(problems, "body.data")
    if await _overlapping(session, mediator_id=meeting.mediator_id, starts_at=booking.starts_at,
                          ends_at=booking.ends_at, except_id=meeting.id) is not None:
        raise _double_booked(meeting.mediator_id)
    referral = await session.get(Referral, meeting.case_id)
    meeting.starts_at, meeting.ends_at = booking.starts_at, booking.ends_at
    if booking.venue or booking.remote_url:
        meeting.location, meeting.venue, meeting.remote_url = booking.location[:300], booking.venue, booking.remote_url
    meeting.short_notice_consent_on = booking.short_notice_consent_on
    meeting.sequence, meeting.notice_given_on = meeting.sequence + 1, today
    meeting.late = meeting.mediate_by is not None and day > meeting.mediate_by
    if not await _save_booking(session, meeting):
        raise _double_booked(meeting.mediator_id)
    _announce_move(session, meeting, reason=reason)
    if meeting.late and referral is not None:
        _tell_adviser(session, referral, meeting, earliest_possible_on=day, today=today)
    await session.flush()
    return meeting


async def provider_cancel(session: AsyncSession, meeting_id: str, *, reason: str) -> Meeting:
    """The provider called the meeting off; the case stays open for a new booking, and day 30 is watched."""
    meeting = await _scheduled(session, meeting_id)
    await _cancel(session, meeting, reason=reason, by="provider")
    await session.flush()
    return meeting


async def record_no_show(session: AsyncSession, meeting_id: str, *, absent_party: str, reason: str,
                         today: date, timezone: str) -> Meeting:
    """The meeting did not take place because a party did not come; only a meeting already due can be missed."""
    meeting = await _scheduled(session, meeting_id)
    if meeting.starts_at.astimezone(ZoneInfo(timezone)).date() > today:
        raise InvalidRequest.field("body.data.meeting_id", "the meeting has not happened yet")
    meeting.status, meeting.absent_party, meeting.cancelled_reason = MeetingStatus.no_show, absent_party, reason
    session.add(meeting)
    _record_change(session, meeting, "no_show", reason=reason, by="provider")
    add_event(session, MeetingNoShowV1(meeting_id=meeting.id, case_id=meeting.case_id, scheduled_for=meeting.starts_at,
                                       absent_party=absent_party, reason=reason),
              subject=meeting.case_id)
    await session.flush()
    return meeting


# --- R10: day 30 --------------------------------------------------------------------------------------------


async def raise_deadline_breaches(session: AsyncSession, *, today: date, timezone: str, limit: int = 100) -> int:
    """On day 30 with no meeting held (and none still due by then), tell the LA and ops once, and the adviser
    if they were not told already (R10: the certificate follows within 3 working days)."""
    due = (await session.exec(select(Referral).where(
        Referral.kind == "mediation", col(Referral.closed_reason).is_(None), col(Referral.breach_raised_on).is_(None),
        col(Referral.mediate_by) <= today).limit(limit).with_for_update(skip_locked=True))).all()
    tz, raised = ZoneInfo(timezone), 0
    for referral in due:
        assert referral.mediate_by is not None
        meetings = (await session.exec(select(Meeting).where(Meeting.case_id == referral.case_id))).all()
        states = [(_state(m), m.concluded_on if m.concluded_on else m.starts_at.astimezone(tz).date()) for m in meetings]
        if not rules.deadline_breached(mediate_by=referral.mediate_by, today=today, meetings=states):
            continue
        latest = max(meetings, key=lambda m: m.created_at, default=None)
        referral.breach_raised_on = today
        session.add(referral)
        log.warning("meeting.deadline_breached", case_id=referral.case_id, mediate_by=str(referral.mediate_by))
        add_event(session, MeetingDeadlineBreachedV1(
            case_id=referral.case_id, la_code=referral.la_code, meeting_id=latest.id if latest else None,
            mediate_by=referral.mediate_by, arranging_body=referral.arranging_body,
            meeting_status=latest.status.value if latest else "none",
        ), subject=referral.case_id)
        _tell_adviser(session, referral, latest, earliest_possible_on=None, today=today)
        raised += 1
    await session.flush()
    return raised


def _state(meeting: Meeting) -> str:
    if meeting.status is MeetingStatus.concluded:
        return "held" if meeting.held else "not_held"
    return meeting.status.value


@dataclass(frozen=True)
class Capacity:
    """How many more meetings the provider's pool can take inside a case's window (capacity planning)."""

    case_id: str
    earliest: date
    latest: date
    by_mediator: dict[str, int]

    @property
    def bookable_meetings(self) -> int:
        return sum(self.by_mediator.values())


async def capacity(session: AsyncSession, case_id: str, *, today: date, timezone: str) -> Capacity:
    """The pool's room for a case booked ``today``: from the first day with full notice (R11) to the 30-day
    date (R9; disagreement resolution: the booking window), counted by ``mediator_rules.bookable_meetings``."""
    referral = await session.get(Referral, case_id)
    if referral is None:
        raise ReferralNotFound(f"no referral for case {case_id}")
    earliest = rules.earliest_meeting_day(today, DEFAULT_CALENDAR)
    latest = referral.mediate_by or earliest + DR_BOOKING_WINDOW
    found = await mediator_service.bookable(session, _needs(referral), earliest=earliest, latest=latest,
                                            timezone=timezone)
    return Capacity(case_id=case_id, earliest=earliest, latest=latest, by_mediator=found)
