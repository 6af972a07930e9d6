"""Pure statutory rules applied at intake (docs/rules.md). No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from intake.case.models import ArrangingBody, CaseKind, CaseStatus
from shared.calendar import (
    AppealDeadline,
    WorkingDayCalendar,
    add_days,
    add_days_explained,
    add_months,
    add_months_explained,
    appeal_deadline,
    say,
)
from shared.errors import FieldError

MEDIATION_WINDOW_DAYS = 30  # R8: 30 calendar days in every case [regs 35-36, numbers UNCONFIRMED]
CONTACT_WINDOW_MONTHS = 2  # R4
DECLINE_CERTIFICATE_WORKING_DAYS = 3  # R6
MEDIATOR_CERTIFICATE_WORKING_DAYS = 3  # R15: within 3 working days of the mediation concluding
HEALTH_NOTICE_WORKING_DAYS = 3  # R8: the LA tells each commissioning body within 3 working days


NOTICE_CLEAR_WORKING_DAYS = 5  # R11: the date and place at least 5 clear working days before the meeting

#: R2: what a health-only case shows instead of an appeal deadline.
HEALTH_ONLY_NO_APPEAL = ("Health care provision alone cannot be appealed to the Tribunal (R2). The family can complain "
                         "to the ICB or NHS England, then to the Parliamentary and Health Service Ombudsman.")


MediationTrigger = Literal["health_notice_sent_on", "told_on"]


def mediation_trigger(*, health_only: bool, told_on: date,
                      health_notice_sent_on: date | None) -> tuple[MediationTrigger, date]:
    """R8: the 30 days run from the LA being told, except in a health-only mediation, where the commissioning
    body arranges it within 30 days of receiving the LA's notice (sent by the system, or the date reported)."""
    if health_only and health_notice_sent_on is not None:
        return "health_notice_sent_on", health_notice_sent_on
    return "told_on", told_on


@dataclass(frozen=True)
class Deadlines:
    contact_window_ends_on: date
    late_contact: bool
    mediate_by: date | None
    certificate_due_on: date | None


def deadlines(kind: CaseKind, *, notice_sent_on: date, told_on: date, calendar: WorkingDayCalendar,
              adviser_contacted_on: date | None = None, health_only: bool = False,
              health_notice_sent_on: date | None = None) -> Deadlines:
    """R4 contact window (late when the adviser was first contacted after it); R8/R9 the date the meeting must
    take place by; R6 certificate due date."""
    contact_window_ends_on = add_months(notice_sent_on, CONTACT_WINDOW_MONTHS)
    late_contact = (adviser_contacted_on or told_on) > contact_window_ends_on
    if kind is CaseKind.mediation:
        _, trigger = mediation_trigger(health_only=health_only, told_on=told_on,
                                       health_notice_sent_on=health_notice_sent_on)
        return Deadlines(contact_window_ends_on, late_contact, add_days(trigger, MEDIATION_WINDOW_DAYS), None)
    return Deadlines(
        contact_window_ends_on, late_contact, None,
        calendar.add_working_days(told_on, DECLINE_CERTIFICATE_WORKING_DAYS),
    )


@dataclass(frozen=True)
class HealthRouting:
    arranging_body: ArrangingBody
    health_bodies_told_by: date | None


def health_routing(*, health_issues: bool, health_only: bool, told_on: date,
                   calendar: WorkingDayCalendar) -> HealthRouting:
    """R8: any health issue obliges the LA to tell the commissioning bodies within 3 working days;
    health-only mediation is arranged by the commissioning body, anything else by the LA."""
    if not health_issues:
        return HealthRouting(ArrangingBody.local_authority, None)
    told_by = calendar.add_working_days(told_on, HEALTH_NOTICE_WORKING_DAYS)
    body = ArrangingBody.health_commissioning_body if health_only else ArrangingBody.local_authority
    return HealthRouting(body, told_by)


def appeal(*, notice_sent_on: date, certificate_issued_on: date | None,
           health_only: bool = False) -> AppealDeadline | None:
    """R17, from the shared calendar; none for health-only mediation, which cannot be appealed (R2)."""
    if health_only:
        return None
    return appeal_deadline(notice_sent_on=notice_sent_on, certificate_issued_on=certificate_issued_on)


# --- Explained deadlines -----------------------------------------------------------------------------


Day = date  # `date` is also a field name below


@dataclass(frozen=True)
class Explained:
    """A statutory date on a case with the rule that set it, its trigger and the steps taken."""

    name: str
    rule: str
    date: Day | None
    trigger: str | None
    trigger_date: Day | None
    steps: tuple[str, ...]


def mediator_certificate_due(*, kind: CaseKind, health_only: bool, concluded_on: date,
                             calendar: WorkingDayCalendar) -> date | None:
    """R15: the mediator certificate is due 3 working days after the mediation concluded; a health-only
    mediation cannot lead to a Tribunal appeal (R2), so no certificate is due."""
    if kind is not CaseKind.mediation or health_only:
        return None
    return calendar.add_working_days(concluded_on, MEDIATOR_CERTIFICATE_WORKING_DAYS)


def explain(*, kind: CaseKind, notice_sent_on: date | None, told_on: date, adviser_contacted_on: date | None,
            health_issues: bool, health_only: bool, health_notice_sent_on: date | None,
            certificate_issued_on: date | None, calendar: WorkingDayCalendar,
            meeting_concluded_on: date | None = None) -> list[Explained]:
    """Every statutory date of a mediation (or declined mediation) case, reckoned from its trigger with the
    steps; a disagreement-resolution case has none (R21)."""
    if kind is CaseKind.disagreement_resolution or notice_sent_on is None:
        return []
    out: list[Explained] = []
    window = add_months_explained(notice_sent_on, CONTACT_WINDOW_MONTHS, label="notice sent")
    contacted = adviser_contacted_on or told_on
    out.append(Explained("contact_window_ends_on", "R4", window.day, "notice_sent_on", notice_sent_on, (
        *window.steps, "not moved: a Regs deadline stays where it falls (T5)",
        f"adviser first contacted {say(contacted)}: "
        + ("after the window, late contact for human review" if contacted > window.day else "within the window"))))
    if kind is CaseKind.mediation:
        trigger, trigger_date = mediation_trigger(health_only=health_only, told_on=told_on,
                                                  health_notice_sent_on=health_notice_sent_on)
        label = ("notice to the health commissioning body sent" if trigger == "health_notice_sent_on"
                 else "LA told")
        mediate_by = add_days_explained(trigger_date, MEDIATION_WINDOW_DAYS, label=label)
        out.append(Explained("mediate_by", "R8", mediate_by.day, trigger, trigger_date, (
            *mediate_by.steps, "not moved: a Regs deadline stays where it falls (T5, R9)")))
        last = calendar.latest_working_day_on_or_before_explained(mediate_by.day)
        out.append(Explained("last_bookable_day", "R9", last.day, "mediate_by", mediate_by.day, last.steps))
        notice = calendar.latest_notice_day(last.day, NOTICE_CLEAR_WORKING_DAYS)
        out.append(Explained("latest_notice_day", "R11", notice.day, "last_bookable_day", last.day, (
            *notice.steps, "shorter notice only with the parent or young person's recorded consent")))
        if health_issues:
            told = calendar.add_working_days_explained(told_on, HEALTH_NOTICE_WORKING_DAYS, label="LA told")
            sent = () if health_notice_sent_on is None else (
                f"notice sent {say(health_notice_sent_on)}: "
                + ("in time" if health_notice_sent_on <= told.day else "after the 3 working days"),)
            out.append(Explained("health_bodies_told_by", "R8", told.day, "told_on", told_on, (*told.steps, *sent)))
        if meeting_concluded_on is not None and not health_only:
            due = calendar.add_working_days_explained(meeting_concluded_on, MEDIATOR_CERTIFICATE_WORKING_DAYS,
                                                      label="mediation concluded")
            out.append(Explained("certificate_due_on", "R15", due.day, "meeting_concluded_on", meeting_concluded_on,
                                 due.steps))
    else:
        due = calendar.add_working_days_explained(told_on, DECLINE_CERTIFICATE_WORKING_DAYS, label="adviser told")
        out.append(Explained("certificate_due_on", "R6", due.day, "told_on", told_on, due.steps))
    deadline = appeal(notice_sent_on=notice_sent_on, certificate_issued_on=certificate_issued_on,
                      health_only=health_only)
    if deadline is None:
        out.append(Explained("appeal_deadline", "R2", None, None, None, (HEALTH_ONLY_NO_APPEAL,)))
    else:
        by_certificate = deadline.reason.startswith("1 month")
        out.append(Explained("appeal_deadline", "R17", deadline.day,
                             "certificate_issued_on" if by_certificate else "notice_sent_on",
                             certificate_issued_on if by_certificate else notice_sent_on, deadline.steps))
    return out


def date_errors(*, decision_date: date, notice_sent_on: date, told_on: date, today: date,
                adviser_contacted_on: date | None = None,
                health_notice_sent_on: date | None = None) -> list[FieldError]:
    """R23: a notice sent in the future or before the decision; being told before the notice or in the future;
    the adviser contacted before the notice or in the future (R4); the notice to the health bodies before the
    LA was told or in the future (R8)."""
    errors: list[FieldError] = []
    if adviser_contacted_on is not None:
        if adviser_contacted_on > today:
            errors.append(FieldError(field="body.adviser_contacted_on", reason="must not be in the future"))
        if adviser_contacted_on < notice_sent_on:
            errors.append(FieldError(field="body.adviser_contacted_on", reason="must not be before notice_sent_on"))
    if health_notice_sent_on is not None:
        errors += health_notice_errors(health_notice_sent_on, told_on=told_on, today=today,
                                       field="body.health_notice_sent_on")
    if notice_sent_on > today:
        errors.append(FieldError(field="body.notice_sent_on", reason="must not be in the future"))
    if notice_sent_on < decision_date:
        errors.append(FieldError(field="body.notice_sent_on", reason="must not be before decision_date"))
    if told_on > today:
        errors.append(FieldError(field="body.told_on", reason="must not be in the future"))
    if told_on < notice_sent_on:
        errors.append(FieldError(field="body.told_on", reason="must not be before notice_sent_on"))
    return errors


def health_notice_errors(sent_on: date, *, told_on: date, today: date, field: str) -> list[FieldError]:
    """R8: the LA's notice to the health bodies goes after it was told, and not in the future."""
    errors: list[FieldError] = []
    if sent_on > today:
        errors.append(FieldError(field=field, reason="must not be in the future"))
    if sent_on < told_on:
        errors.append(FieldError(field=field, reason="must not be before told_on: the LA sends the notice once told"))
    return errors


# --- R3: appeals that need no certificate ---------------------------------------------------------


class AppealMatter(StrEnum):
    """What an appeal to the Tribunal is about."""

    refusal_to_assess = "refusal_to_assess"
    refusal_to_issue_plan = "refusal_to_issue_plan"
    section_b = "section_b"  # needs
    section_f = "section_f"  # provision
    named_school = "named_school"  # section I: the school or institution named
    named_school_type = "named_school_type"  # section I: the type of school or institution named
    no_school_named = "no_school_named"  # section I: that no school or institution is named
    refusal_to_reassess = "refusal_to_reassess"
    refusal_to_amend = "refusal_to_amend"
    cease_plan = "cease_plan"


EXEMPT_MATTERS = frozenset({AppealMatter.named_school, AppealMatter.named_school_type, AppealMatter.no_school_named})


@dataclass(frozen=True)
class CertificateRequirement:
    certificate_required: bool
    reason: str


def certificate_requirement(matters: set[AppealMatter]) -> CertificateRequirement:
    """R3: no certificate is needed when the appeal is ONLY about the school, its type, or no school named."""
    if matters and matters <= EXEMPT_MATTERS:
        return CertificateRequirement(False, "The appeal is only about the school or institution named in the plan, "
                                             "its type, or that none is named (Children and Families Act 2014 s.55): "
                                             "no mediation certificate is needed. Mediation is still available.")
    others = sorted(m.value for m in matters - EXEMPT_MATTERS)
    return CertificateRequirement(True, "The appeal covers " + ", ".join(others) + ": the parent or young person "
                                        "must contact the mediation adviser and needs a mediation certificate.")


# --- Lifecycle --------------------------------------------------------------------------------------


class Action(StrEnum):
    decline_mediation = "decline_mediation"  # a parent who chose mediation changes their mind (R6)
    request_mediation = "request_mediation"  # a parent who declined changes their mind (R7)
    withdraw = "withdraw"


ALLOWED: dict[Action, frozenset[CaseStatus]] = {
    Action.decline_mediation: frozenset({CaseStatus.submitted, CaseStatus.meeting_scheduled}),
    Action.request_mediation: frozenset({CaseStatus.declined, CaseStatus.certificate_issued}),
    Action.withdraw: frozenset({CaseStatus.submitted, CaseStatus.meeting_scheduled, CaseStatus.declined}),
}
RESULT: dict[Action, CaseStatus] = {
    Action.decline_mediation: CaseStatus.declined,
    Action.request_mediation: CaseStatus.submitted,
    Action.withdraw: CaseStatus.withdrawn,
}

#: What other services' events do to the status; anything else leaves it as it is (e.g. withdrawn).
FOLLOWS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.meeting_scheduled: frozenset({CaseStatus.submitted}),
    CaseStatus.meeting_concluded: frozenset({CaseStatus.meeting_scheduled, CaseStatus.submitted}),
    CaseStatus.certificate_issued: frozenset({CaseStatus.meeting_concluded, CaseStatus.declined,
                                              CaseStatus.meeting_scheduled, CaseStatus.submitted}),
}


def can(action: Action, status: CaseStatus) -> bool:
    return status in ALLOWED[action]


def follows(current: CaseStatus, new: CaseStatus) -> bool:
    return current in FOLLOWS.get(new, frozenset())


# --- R21: disagreement resolution ----------------------------------------------------------------------

FAMILY = frozenset({"parent", "young_person"})
#: The other side each type allows (CFA s.57; CoP 11.6-11.8).
OTHER_SIDE: dict[int, frozenset[str]] = {
    1: frozenset({"local_authority", "governing_body", "early_years_provider", "post_16_institution",
                  "academy_proprietor"}),
    2: frozenset({"early_years_provider", "school", "post_16_institution"}),
    3: frozenset({"icb", "local_authority"}),
    4: frozenset({"icb", "nhs_england"}),
}


def dr_party_errors(dr_type: int, roles: list[str], *, has_child: bool) -> list[FieldError]:
    """R21/R23: the parties each type of disagreement resolution allows; type 4 has no parent or young person."""
    errors: list[FieldError] = []
    if dr_type == 4:
        for index, role in enumerate(roles):
            if role in FAMILY:
                errors.append(FieldError(field=f"body.parties.{index}.role",
                                         reason="a type-4 disagreement (LA and health commissioning body) has no "
                                                "parent or young person party (R21)"))
        if "local_authority" not in roles:
            errors.append(FieldError(field="body.parties", reason="type 4 needs the local_authority as a party"))
        if not OTHER_SIDE[4] & set(roles):
            errors.append(FieldError(field="body.parties", reason="type 4 needs an icb or nhs_england party"))
        return errors
    family = [i for i, role in enumerate(roles) if role in FAMILY]
    if len(family) != 1:
        errors.append(FieldError(field="body.parties",
                                 reason=f"type {dr_type} needs exactly one parent or young_person party (R21)"))
    for index, role in enumerate(roles):
        if role not in FAMILY and role not in OTHER_SIDE[dr_type]:
            allowed = ", ".join(sorted(OTHER_SIDE[dr_type]))
            errors.append(FieldError(field=f"body.parties.{index}.role",
                                     reason=f"type {dr_type} is with one of: {allowed} (R21)"))
    if not has_child:
        errors.append(FieldError(field="body.child", reason=f"type {dr_type} is about a child or young person"))
    return errors


def all_consented(parties: Sequence[Mapping[str, Any]]) -> bool:
    """R21: every party's consent is recorded."""
    return bool(parties) and all(party.get("consented_on") for party in parties)


def missing_consent(parties: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(party["role"]) for party in parties if not party.get("consented_on")]
