"""Mediators, their availability and their assignment to cases. Flush, never commit (callers commit)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select as core_select
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.mediator import rules
from scheduling.mediator.models import Mediator, MediatorAvailability, MediatorUnavailability
from scheduling.mediator.schemas import AvailabilityReplace, ExceptionIn, MediatorUpsert, WindowIn
from scheduling.meeting.models import Meeting, MeetingStatus
from shared.calendar import DEFAULT_CALENDAR, WorkingDayCalendar
from shared.errors import Conflict, FieldError, InvalidRequest, NotFound
from shared.logging import get_logger

log = get_logger(__name__)

#: Meetings that take a mediator's time and count towards their weekly capacity.
BOOKED = (MeetingStatus.scheduled, MeetingStatus.concluded)

#: The fairest mediators whose diaries a booking reads first (``assign``); most bookings go to the first.
FIRST_DIARIES = 8


class MediatorNotFound(NotFound):
    title = "Mediator not found"


class ExceptionNotFound(NotFound):
    title = "Availability exception not found"


class MediatorOfAnotherProvider(Conflict):
    code = "mediator_of_another_provider"
    title = "The mediator is kept for another provider"


async def get(session: AsyncSession, mediator_id: str) -> Mediator:
    mediator = await session.get(Mediator, mediator_id)
    if mediator is None:
        raise MediatorNotFound(f"no mediator {mediator_id}")
    return mediator


async def list_mediators(session: AsyncSession, *, provider_id: str | None = None,
                         active: bool | None = None) -> Sequence[Mediator]:
    query = select(Mediator).order_by(col(Mediator.id))
    if provider_id is not None:
        query = query.where(Mediator.provider_id == provider_id)
    if active is not None:
        query = query.where(Mediator.active == active)
    return (await session.exec(query)).all()


async def windows(session: AsyncSession, mediator_id: str) -> Sequence[MediatorAvailability]:
    return (await session.exec(select(MediatorAvailability).where(MediatorAvailability.mediator_id == mediator_id)
                               .order_by(col(MediatorAvailability.id)))).all()


async def exceptions(session: AsyncSession, mediator_id: str) -> Sequence[MediatorUnavailability]:
    return (await session.exec(select(MediatorUnavailability)
                               .where(MediatorUnavailability.mediator_id == mediator_id)
                               .order_by(col(MediatorUnavailability.starts_on)))).all()


async def upsert_mediator(session: AsyncSession, provider_id: str, data: MediatorUpsert) -> Mediator:
    """Create or update the mediator ``data.id`` of ``provider_id``. ``last_booked_at`` is ours and kept.
    A mediator kept for another provider is refused (409): one provider cannot rewrite another's."""
    fields = data.model_dump(include=set(MediatorUpsert.model_fields))
    mediator = await session.get(Mediator, data.id)
    if mediator is None:
        mediator = Mediator(provider_id=provider_id, **fields)
        log.info("mediator.created", mediator_id=data.id, provider_id=provider_id)
    elif mediator.provider_id != provider_id:
        raise MediatorOfAnotherProvider(f"mediator {data.id} is kept for another provider")
    else:
        for name, value in fields.items():
            setattr(mediator, name, value)
        log.info("mediator.updated", mediator_id=data.id, provider_id=provider_id)
    if not rules.is_independent(mediator):  # kept, so a booking naming them can be refused with the reason
        log.info("mediator.not_independent", mediator_id=data.id, employer_kind=str(mediator.employer_kind))
    session.add(mediator)
    await session.flush()
    return mediator


async def replace_availability(session: AsyncSession, mediator_id: str,
                               data: AvailabilityReplace | Sequence[WindowIn]) -> Sequence[MediatorAvailability]:
    """Replace every recurring window; with ``AvailabilityReplace.exceptions`` given, every exception too."""
    await get(session, mediator_id)
    new_windows = data.windows if isinstance(data, AvailabilityReplace) else data
    await session.exec(delete(MediatorAvailability).where(col(MediatorAvailability.mediator_id) == mediator_id))
    rows = [MediatorAvailability(mediator_id=mediator_id, **w.model_dump()) for w in new_windows]
    session.add_all(rows)
    if isinstance(data, AvailabilityReplace) and data.exceptions is not None:
        await session.exec(delete(MediatorUnavailability)
                           .where(col(MediatorUnavailability.mediator_id) == mediator_id))
        session.add_all([MediatorUnavailability(mediator_id=mediator_id, **e.model_dump()) for e in data.exceptions])
    await session.flush()
    log.info("mediator.availability_replaced", mediator_id=mediator_id, windows=len(rows))
    return rows


async def add_exception(session: AsyncSession, mediator_id: str, data: ExceptionIn) -> MediatorUnavailability:
    await get(session, mediator_id)
    row = MediatorUnavailability(mediator_id=mediator_id, **data.model_dump())
    session.add(row)
    await session.flush()
    log.info("mediator.exception_added", mediator_id=mediator_id, reason=data.reason)
    return row


async def remove_exception(session: AsyncSession, mediator_id: str, exception_id: str) -> None:
    row = await session.get(MediatorUnavailability, exception_id)
    if row is None or row.mediator_id != mediator_id:
        raise ExceptionNotFound(f"no exception {exception_id} for mediator {mediator_id}")
    await session.delete(row)
    await session.flush()


async def assign(session: AsyncSession, needs: rules.Needs, *, earliest: date, latest: date, timezone: str,
                 calendar: WorkingDayCalendar = DEFAULT_CALENDAR,
                 horizon_days: int = rules.HORIZON_DAYS) -> rules.Assignment:
    """Choose a mediator of ``needs.provider_id`` and a slot from ``earliest`` (late after ``latest``): see
    ``rules.assign``. Nothing is booked here; the caller books and sets ``last_booked_at``.

    The pool is ranked on each mediator's count of meetings in the ranking week (one grouped query); then the
    diaries of the ``FIRST_DIARIES`` fairest are read, and the whole pool's only when none of them is free by
    ``latest``. Reading every diary at every booking made a booking's cost grow with the pool's meetings.
    """
    candidates = (await session.exec(select(Mediator).where(Mediator.provider_id == needs.provider_id))).all()
    tz = ZoneInfo(timezone)
    last = max(latest, earliest + timedelta(days=horizon_days))
    loads = await _week_loads(session, needs.provider_id, rules.rank_week(earliest, calendar), tz=tz)
    ranking = rules.rank(candidates, needs, earliest=earliest, latest=latest, loads=loads, calendar=calendar)
    first, rest = ranking.ranked[:FIRST_DIARIES], ranking.ranked[FIRST_DIARIES:]
    diaries = await _diaries(session, needs.provider_id, [m.id for m in first], earliest=earliest, last=last,
                             tz=tz, only_these=True)
    assignment = rules.first_on_time(ranking, first, diaries, calendar=calendar, tz=tz)
    if assignment is None:
        diaries = await _diaries(session, needs.provider_id, [m.id for m in ranking.ranked], earliest=earliest,
                                 last=last, tz=tz)
        assignment = (rules.first_on_time(ranking, rest, diaries, calendar=calendar, tz=tz)
                      or rules.first_late(ranking, diaries, calendar=calendar, tz=tz, horizon_days=horizon_days))
    log.info("mediator.assigned", chosen=assignment.explanation["chosen"], late=assignment.late,
             considered=len(candidates))
    return assignment


async def _week_loads(session: AsyncSession, provider_id: str, week: date, *, tz: ZoneInfo) -> dict[str, int]:
    """How many meetings each mediator of the provider has booked in ``week`` (local dates, Monday to Sunday)."""
    starts = datetime.combine(week, time(), tzinfo=tz).astimezone(UTC)
    ends = datetime.combine(week + timedelta(days=7), time(), tzinfo=tz).astimezone(UTC)
    pool = select(Mediator.id).where(Mediator.provider_id == provider_id)
    rows = (await session.exec(
        select(Meeting.mediator_id, func.count()).where(
            col(Meeting.mediator_id).in_(pool), col(Meeting.status).in_(BOOKED),
            col(Meeting.starts_at) >= starts, col(Meeting.starts_at) < ends)
        .group_by(col(Meeting.mediator_id)))).all()
    return {mediator_id: count for mediator_id, count in rows if mediator_id is not None}


async def bookable(session: AsyncSession, needs: rules.Needs, *, earliest: date, latest: date,
                   timezone: str) -> dict[str, int]:
    """How many more meetings each eligible mediator of ``needs.provider_id`` can take from ``earliest`` to
    ``latest`` (``rules.bookable_meetings``): capacity planning, nothing is booked."""
    candidates = (await session.exec(select(Mediator).where(Mediator.provider_id == needs.provider_id))).all()
    tz = ZoneInfo(timezone)
    return rules.bookable_meetings(candidates, needs, earliest=earliest, latest=latest, tz=tz,
                                   diaries=await _diaries(session, needs.provider_id, [m.id for m in candidates],
                                                          earliest=earliest, last=latest, tz=tz))


async def _diaries(session: AsyncSession, provider_id: str, ids: Sequence[str], *, earliest: date, last: date,
                   tz: ZoneInfo, only_these: bool = False) -> dict[str, rules.Diary]:
    """Windows, exceptions and booked meetings of each mediator ``ids`` of the provider, from the Monday of
    ``earliest``'s week to the week after ``last``.

    The whole pool is named by its provider (a subquery), not by a list of its ids: a list is bound anew at
    every execution, one parameter per mediator, which for a pool of tens cost 6 % of a booking's CPU. With
    ``only_these``, only ``ids`` are read: a few, named in a list.
    """
    if not ids:
        return {}
    pool = ids if only_these else select(Mediator.id).where(Mediator.provider_id == provider_id)
    monday = earliest - timedelta(days=earliest.weekday())
    since = datetime.combine(monday, time(), tzinfo=tz).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=7), time(), tzinfo=tz).astimezone(UTC)
    # Columns, not ORM objects, throughout: a search reads every window, exception and meeting of the pool at
    # every booking. Building an ORM object for each meeting was most of a search's time; the windows were half
    # the objects a booking built for a pool of tens.
    found_windows: dict[str, list[rules.WindowRow]] = defaultdict(list)
    windows = MediatorAvailability.__table__.c  # type: ignore[attr-defined]
    for mediator_id, *window in (await session.exec(core_select(  # type: ignore[call-overload]
            windows.mediator_id, windows.rrule, windows.start_time, windows.end_time, windows.valid_from,
            windows.valid_until).where(windows.mediator_id.in_(pool)))).all():
        found_windows[mediator_id].append(rules.WindowRow(*window))
    found_absences: dict[str, list[rules.AbsenceRow]] = defaultdict(list)
    for mediator_id, starts_on, ends_on in (await session.exec(select(
            col(MediatorUnavailability.mediator_id), col(MediatorUnavailability.starts_on),
            col(MediatorUnavailability.ends_on))
            .where(col(MediatorUnavailability.mediator_id).in_(pool), col(MediatorUnavailability.ends_on) >= monday,
                   col(MediatorUnavailability.starts_on) <= last))).all():
        found_absences[mediator_id].append(rules.AbsenceRow(starts_on, ends_on))
    found_bookings: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for mediator_id, starts_at, ends_at in (await session.exec(
            select(Meeting.mediator_id, Meeting.starts_at, Meeting.ends_at).where(
                col(Meeting.mediator_id).in_(pool), col(Meeting.status).in_(BOOKED),
                col(Meeting.starts_at) >= since, col(Meeting.starts_at) < until))).all():
        if mediator_id is not None:
            found_bookings[mediator_id].append((starts_at, ends_at))
    return {i: rules.Diary(windows=found_windows[i], absences=found_absences[i], bookings=found_bookings[i])
            for i in ids}


async def check_named_mediator(session: AsyncSession, mediator_id: str, *, provider_id: str, la_code: str,
                               school_urn: str | None = None, languages: Sequence[str] = (),
                               accessibility_needs: Sequence[str] = (), field: str = "mediator_id") -> Mediator:
    """A booking that names its mediator: refused with a 422 naming ``field`` and every reason (R13, R23)."""
    mediator = await session.get(Mediator, mediator_id)
    if mediator is None:
        raise InvalidRequest.field(field, f"unknown mediator {mediator_id}")
    reasons = rules.refusals(mediator, rules.Needs(provider_id=provider_id, la_code=la_code, school_urn=school_urn,
                                                   languages=tuple(languages),
                                                   accessibility_needs=tuple(accessibility_needs)))
    if reasons:
        raise InvalidRequest(f"{field}: " + "; ".join(reasons),
                             errors=[FieldError(field=field, reason=reason) for reason in reasons])
    return mediator


async def seed_mediators(session: AsyncSession, path: Path) -> int:
    """Insert the development pool with its availability; existing mediators are left as they are."""
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text())["mediators"]
    added = 0
    for entry in entries:
        if await session.get(Mediator, entry["id"]) is not None:
            continue
        entry = dict(entry)
        provider_id = entry.pop("provider_id")
        availability = entry.pop("availability", [])
        await upsert_mediator(session, provider_id, MediatorUpsert.model_validate(entry))
        await replace_availability(session, entry["id"], [WindowIn.model_validate(w) for w in availability])
        added += 1
    return added
