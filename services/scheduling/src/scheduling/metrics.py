"""Scheduling's business metrics for the statutory dashboard, counted from the database on every scrape.

Labels are bounded: the LA code and on time or late, never a case id or a name.
"""

from __future__ import annotations

from datetime import UTC, date

from prometheus_client import Gauge
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.meeting.models import Meeting, MeetingStatus, Referral
from shared import clock
from shared.calendar import DEFAULT_CALENDAR
from shared.metrics import replace_series

#: A case is at risk when its 30 days (R8/R9) end within this many working days and no meeting is booked.
AT_RISK_WORKING_DAYS = 5
TIMELINESS = ("within_30_days", "late")

MEDIATIONS_HELD = Gauge(
    "mediations_held", "Mediations held, by LA and whether on or before the case's 30-day date (R8, R9)",
    ["la", "timeliness"],
)
DEADLINE_BREACHES = Gauge(
    "mediation_deadline_breaches", "Cases whose 30 days ran out with no mediation held (R10), raised to the LA", ["la"],
)
DEADLINE_BREACHES_THIS_MONTH = Gauge(
    "mediation_deadline_breaches_this_month",
    "Day-30 breaches (R10) raised in the current calendar month (London), by LA", ["la"],
)
CASES_AT_RISK = Gauge(
    "cases_at_risk",
    f"Mediation cases whose 30 days end within {AT_RISK_WORKING_DAYS} working days with no meeting booked, by LA",
    ["la"],
)


def month_start(today: date) -> date:
    return today.replace(day=1)


async def refresh(session: AsyncSession) -> None:
    today = clock.today()
    las = [str(la) for la in (await session.exec(select(Referral.la_code).distinct())).all()]
    # Held meetings: few per case, so read their day and the case's 30-day date (the day is local, not UTC).
    held = (await session.exec(
        select(Meeting.la_code, Meeting.starts_at, col(Referral.mediate_by))
        .join(Referral, col(Referral.case_id) == col(Meeting.case_id))
        .where(Meeting.kind == "mediation", Meeting.status == MeetingStatus.concluded,
               col(Meeting.held).is_(True)))).all()
    on_time: dict[tuple[str, ...], float] = {}
    for la, starts_at, mediate_by in held:
        day = clock.london_date(starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC))  # SQLite: naive UTC
        key = (la, "within_30_days" if mediate_by is None or day <= mediate_by else "late")
        on_time[key] = on_time.get(key, 0) + 1
    breaches = (await session.exec(
        select(Referral.la_code, func.count()).where(col(Referral.breach_raised_on).is_not(None))
        .group_by(Referral.la_code))).all()
    this_month = (await session.exec(
        select(Referral.la_code, func.count()).where(col(Referral.breach_raised_on) >= month_start(today))
        .group_by(Referral.la_code))).all()
    horizon = DEFAULT_CALENDAR.add_working_days(today, AT_RISK_WORKING_DAYS)
    booked = select(Meeting.case_id).where(
        col(Meeting.status).in_((MeetingStatus.scheduled, MeetingStatus.concluded)))
    at_risk = (await session.exec(
        select(Referral.la_code, func.count()).where(
            Referral.kind == "mediation", col(Referral.closed_reason).is_(None),
            col(Referral.breach_raised_on).is_(None), col(Referral.mediate_by) >= today,
            col(Referral.mediate_by) <= horizon, col(Referral.case_id).not_in(booked))
        .group_by(Referral.la_code))).all()
    replace_series(MEDIATIONS_HELD, on_time, zeros=[(la, t) for la in las for t in TIMELINESS])
    replace_series(DEADLINE_BREACHES, {(la,): n for la, n in breaches}, zeros=[(la,) for la in las])
    replace_series(DEADLINE_BREACHES_THIS_MONTH, {(la,): n for la, n in this_month}, zeros=[(la,) for la in las])
    replace_series(CASES_AT_RISK, {(la,): n for la, n in at_risk}, zeros=[(la,) for la in las])
