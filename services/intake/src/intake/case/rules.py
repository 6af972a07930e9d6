"""Pure statutory rules applied at intake (RULES.md). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from intake.case.models import CaseKind
from shared.calendar import WorkingDayCalendar, add_days, add_months
from shared.errors import FieldError

MEDIATION_WINDOW_DAYS = 30  # R8: 30 calendar days in every case [regs 35-36, numbers UNCONFIRMED]
CONTACT_WINDOW_MONTHS = 2  # R4
DECLINE_CERTIFICATE_WORKING_DAYS = 3  # R6


@dataclass(frozen=True)
class Deadlines:
    contact_window_ends_on: date
    late_contact: bool
    mediate_by: date | None
    certificate_due_on: date | None


def deadlines(kind: CaseKind, *, notice_sent_on: date, told_on: date, calendar: WorkingDayCalendar) -> Deadlines:
    """R4 contact window; R8/R9 date the meeting must take place by; R6 certificate due date."""
    contact_window_ends_on = add_months(notice_sent_on, CONTACT_WINDOW_MONTHS)
    late_contact = told_on > contact_window_ends_on
    if kind is CaseKind.mediation:
        return Deadlines(contact_window_ends_on, late_contact, add_days(told_on, MEDIATION_WINDOW_DAYS), None)
    return Deadlines(
        contact_window_ends_on, late_contact, None,
        calendar.add_working_days(told_on, DECLINE_CERTIFICATE_WORKING_DAYS),
    )


def date_errors(*, decision_date: date, notice_sent_on: date, told_on: date, today: date) -> list[FieldError]:
    """R23: a notice sent in the future or before the decision; being told before the notice or in the future."""
    errors: list[FieldError] = []
    if notice_sent_on > today:
        errors.append(FieldError(field="body.notice_sent_on", reason="must not be in the future"))
    if notice_sent_on < decision_date:
        errors.append(FieldError(field="body.notice_sent_on", reason="must not be before decision_date"))
    if told_on > today:
        errors.append(FieldError(field="body.told_on", reason="must not be in the future"))
    if told_on < notice_sent_on:
        errors.append(FieldError(field="body.told_on", reason="must not be before notice_sent_on"))
    return errors
