"""Cases: rows, timeline entries and outbox events in one transaction. Flush, never commit."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.case import rules
from intake.case.models import Case, CaseKind, CaseStatus, IdempotencyRecord
from intake.case.schemas import CaseCreate, DisagreementResolutionCreate, MediationCreate
from intake.review import service as review_service
from intake.review.models import ReviewKind
from intake.timeline import service as timeline_service
from shared import clock
from shared.calendar import DEFAULT_CALENDAR, appeal_deadline
from shared.db import insert_added
from shared.directory import load_directory
from shared.errors import Conflict, FieldError, Forbidden, InvalidRequest, NotFound
from shared.events.cases import (
    CaseConsentRecordedV1,
    CaseDeadlinesChangedV1,
    CaseDisagreementResolutionRequestedV1,
    CaseHealthReferralV1,
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateFactsMediationDeclinedV1,
    CertificateFactsSubmittedV1,
    DrPartyFact,
    NamedRequester,
    Party,
    ReferralConsentRecordedV1,
    ReferralDeadlinesChangedV1,
    ReferralDisagreementResolutionRequestedV1,
    ReferralMediationDeclinedV1,
    ReferralParty,
    ReferralSubmittedV1,
    ReferralWithdrawnV1,
)
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


class UnknownAuthority(Forbidden):
    code = "unknown_local_authority"
    title = "This client's local authority is not in the directory"


class CaseNotFound(NotFound):
    title = "Case not found"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency-Key was already used with a different request body"


def request_hash(body: CaseCreate) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def new_reference() -> str:
    return "SEND-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


async def get_or_raise(session: AsyncSession, case_id: str, *, la_code: str | None = None) -> Case:
    case = await session.get(Case, case_id)
    if case is None or (la_code is not None and case.la_code != la_code):
        raise CaseNotFound(f"no case {case_id} for this local authority")  # another LA's case looks absent
    return case


async def find_by_idempotency_key(session: AsyncSession, *, la_code: str, key: str, body: CaseCreate) -> Case | None:
    record = (
        await session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.la_code == la_code, IdempotencyRecord.key == key)
        )
    ).first()
    if record is None:
        return None
    if record.request_hash != request_hash(body):
        raise IdempotencyKeyReused(f"Idempotency-Key {key!r} was first used with another body")
    return await get_or_raise(session, record.case_id)


async def submit(session: AsyncSession, body: CaseCreate, *, la_code: str, key: str | None,
                 today: date | None = None) -> Case:
    """Apply the intake rules, store the case and record its event in this transaction."""
    today = today or clock.today()
    if load_directory().get(la_code) is None:
        raise UnknownAuthority(f"local authority {la_code!r} is not in the directory")
    if isinstance(body, DisagreementResolutionCreate):
        case = _disagreement_resolution(session, body, la_code=la_code, today=today)
    else:
        case = _mediation(session, body, la_code=la_code, today=today)
    session.add(case)
    if key is not None:
        session.add(IdempotencyRecord(la_code=la_code, key=key, request_hash=request_hash(body), case_id=case.id))
    await insert_added(session)  # one statement for the case, its key, timeline entry and events
    log.info("case.received", case_id=case.id, kind=case.kind, la_code=la_code, late_contact=case.late_contact)
    return case


def _disagreement_resolution(session: AsyncSession, body: DisagreementResolutionCreate, *, la_code: str,
                             today: date) -> Case:
    """R21: voluntary; every party's consent recorded before a meeting is booked; type 4 has no family party."""
    told_on = body.told_on or today
    errors = rules.dr_party_errors(body.dr_type, [p.role for p in body.parties], has_child=body.child is not None)
    if told_on > today:
        errors.append(FieldError(field="body.told_on", reason="must not be in the future"))
    for index, party in enumerate(body.parties):
        if party.consented_on is not None and party.consented_on > today:
            errors.append(FieldError(field=f"body.parties.{index}.consented_on", reason="must not be in the future"))
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)
    family = next((p for p in body.parties if p.role in rules.FAMILY), None)
    parties = [{"role": p.role, "name": p.name, "email": str(p.email) if p.email else None,
                "consented_on": p.consented_on.isoformat() if p.consented_on else None} for p in body.parties]
    case = Case(
        reference=new_reference(), la_code=la_code, kind=CaseKind.disagreement_resolution,
        status=CaseStatus.submitted, told_on=told_on, dr_type=body.dr_type, dr_summary=body.summary,
        dr_parties=parties,
        requester_role=family.role if family else None, requester_name=family.name if family else None,
        requester_email=str(family.email) if family and family.email else None,
        child_name=body.child.name if body.child else None,
        child_date_of_birth=body.child.date_of_birth if body.child else None,
    )
    missing = rules.missing_consent(parties)
    timeline_service.add(session, case_id=case.id, kind="submitted", at=clock.now(),
                         summary=f"Disagreement resolution (type {body.dr_type}) requested; "
                                 + ("every party has consented" if not missing
                                    else "consent awaited from: " + ", ".join(missing)))
    add_event(session, CaseDisagreementResolutionRequestedV1(
        case_id=case.id, reference=case.reference, la_code=la_code, dr_type=body.dr_type,
        parties=tuple(DrPartyFact(role=p["role"], name=p["name"], email=p["email"], consented=bool(p["consented_on"]))
                      for p in parties),
        all_consented=not missing,
    ), subject=case.id)
    add_event(session, ReferralDisagreementResolutionRequestedV1(  # scheduling's copy: no names or emails
        case_id=case.id, reference=case.reference, la_code=la_code, dr_type=body.dr_type,
        parties=tuple(ReferralParty(role=p["role"], consented=bool(p["consented_on"])) for p in parties),
        all_consented=not missing,
    ), subject=case.id)
    return case


async def record_consent(session: AsyncSession, case: Case, *, role: str, consented_on: date,
                         today: date | None = None) -> Case:
    """R21: record a party's consent; booking waits until every party has consented."""
    today = today or clock.today()
    if case.kind is not CaseKind.disagreement_resolution or case.status is CaseStatus.withdrawn:
        raise TransitionNotAllowed("consent is recorded only on an open disagreement-resolution case")
    if consented_on > today:
        raise InvalidRequest.field("body.consented_on", "must not be in the future")
    parties = [dict(p) for p in case.dr_parties]
    matching = [p for p in parties if p["role"] == role]
    if not matching:
        raise InvalidRequest.field("body.role", f"no {role} party on this case")
    for party in matching:
        party["consented_on"] = consented_on.isoformat()
    case.dr_parties = parties
    session.add(case)
    missing = rules.missing_consent(parties)
    timeline_service.add(session, case_id=case.id, kind="consent_recorded", at=clock.now(),
                         summary=f"Consent of the {role} recorded"
                                 + ("; every party has consented" if not missing else ""))
    add_event(session, CaseConsentRecordedV1(case_id=case.id, role=role, consented_on=consented_on,
                                             all_consented=not missing, missing=tuple(missing)), subject=case.id)
    add_event(session, ReferralConsentRecordedV1(case_id=case.id, role=role, consented_on=consented_on,
                                                 all_consented=not missing, missing=tuple(missing)), subject=case.id)
    await session.flush()
    return case


def _mediation(session: AsyncSession, body: MediationCreate, *, la_code: str, today: date) -> Case:
    """R4, R6, R8, R17, R23."""
    errors = rules.date_errors(decision_date=body.decision_date, notice_sent_on=body.notice_sent_on,
                               told_on=body.told_on, today=today, adviser_contacted_on=body.adviser_contacted_on,
                               health_notice_sent_on=body.health_notice_sent_on)
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)
    declined = body.kind is CaseKind.mediation_declined
    # R8: the system sends the notice to the health bodies now (case.health_referral), unless the portal says
    # it already went, on an earlier day.
    health_notice_sent_on = (body.health_notice_sent_on or today) if body.health_issues and not declined else None
    adviser_contacted_on = body.adviser_contacted_on or body.told_on
    deadlines = rules.deadlines(body.kind, notice_sent_on=body.notice_sent_on, told_on=body.told_on,
                                calendar=DEFAULT_CALENDAR, adviser_contacted_on=adviser_contacted_on,
                                health_only=body.health_only, health_notice_sent_on=health_notice_sent_on)
    routing = rules.health_routing(health_issues=body.health_issues, health_only=body.health_only,
                                   told_on=body.told_on, calendar=DEFAULT_CALENDAR)
    appeal = rules.appeal(notice_sent_on=body.notice_sent_on, certificate_issued_on=None,
                          health_only=body.health_only)
    case = Case(
        reference=new_reference(), la_code=la_code, kind=body.kind,
        status=CaseStatus.declined if declined else CaseStatus.submitted,
        decision=body.decision, decision_date=body.decision_date, notice_sent_on=body.notice_sent_on,
        told_on=body.told_on, requester_role=body.requester.role, requester_name=body.requester.name,
        requester_email=str(body.requester.email), child_name=body.child.name,
        child_date_of_birth=body.child.date_of_birth, mediation_issues=[i.strip() for i in body.mediation_issues],
        health_issues=body.health_issues, health_only=body.health_only, arranging_body=routing.arranging_body,
        health_bodies_told_by=routing.health_bodies_told_by, health_notice_sent_on=health_notice_sent_on,
        appeal_deadline=appeal.day if appeal else None,
        appeal_deadline_reason=appeal.reason if appeal else rules.HEALTH_ONLY_NO_APPEAL,
        adviser_contacted_on=adviser_contacted_on, contact_window_ends_on=deadlines.contact_window_ends_on,
        late_contact=deadlines.late_contact, mediate_by=deadlines.mediate_by,
        certificate_due_on=deadlines.certificate_due_on, meeting_needs=body.meeting_needs.model_dump(),
        health_provision_wanted=body.health_provision_wanted,
    )
    if declined:
        _announce_decline(session, case)
    else:
        _announce_mediation(session, case)
    if case.late_contact:  # R4: a person decides; no certificate follows automatically
        review_service.open_review(
            session, case_id=case.id, la_code=la_code, kind=ReviewKind.late_contact,
            reason=f"the adviser was first contacted on {adviser_contacted_on}, after the 2-month window that "
                   f"ended on {case.contact_window_ends_on} (R4)")
    return case


def _facts(case: Case, *, contact: bool = True) -> dict[str, Any]:
    """The facts of a mediation case; without ``contact``, the requester's name alone (what certificates prints)."""
    assert case.requester_role and case.requester_name and case.requester_email, "a mediation case has a requester"
    requester = (Party(role=case.requester_role, name=case.requester_name, email=case.requester_email) if contact
                 else NamedRequester(role=case.requester_role, name=case.requester_name))
    return dict(case_id=case.id, reference=case.reference, la_code=case.la_code, decision=case.decision,
                notice_sent_on=case.notice_sent_on, requester=requester)


def _announce_mediation(session: AsyncSession, case: Case) -> None:
    assert case.mediate_by is not None
    trigger = ("the notice to the health commissioning body sent on " + str(case.health_notice_sent_on)
               if case.health_only and case.health_notice_sent_on else "the LA told on " + str(case.told_on))
    timeline_service.add(session, case_id=case.id, kind="submitted", at=clock.now(),
                         summary=f"Mediation requested; must take place by {case.mediate_by} (30 days from {trigger})")
    add_event(session, CaseSubmittedV1(**_facts(case), mediate_by=case.mediate_by, health_issues=case.health_issues,
                                       health_only=case.health_only, arranging_body=case.arranging_body,
                                       languages=tuple(case.meeting_needs.get("languages", ())),
                                       accessibility_needs=tuple(case.meeting_needs.get("accessibility_needs", ())),
                                       school_urn=case.meeting_needs.get("school_urn"),
                                       late_contact=case.late_contact),
              subject=case.id)
    # Each audience's copy in the same transaction, on its own topic: scheduling gets no names or emails,
    # certificates the name alone.
    add_event(session, ReferralSubmittedV1(
        case_id=case.id, reference=case.reference, la_code=case.la_code, mediate_by=case.mediate_by,
        health_issues=case.health_issues, arranging_body=case.arranging_body,
        languages=tuple(case.meeting_needs.get("languages", ())),
        accessibility_needs=tuple(case.meeting_needs.get("accessibility_needs", ())),
        school_urn=case.meeting_needs.get("school_urn"),
    ), subject=case.id)
    add_event(session, CertificateFactsSubmittedV1(**_facts(case, contact=False), health_only=case.health_only,
                                                   late_contact=case.late_contact), subject=case.id)
    if case.health_issues and case.health_bodies_told_by is not None:  # R8: the notice to the health bodies
        add_event(session, CaseHealthReferralV1(
            case_id=case.id, reference=case.reference, la_code=case.la_code, health_only=case.health_only,
            mediate_by=case.mediate_by, tell_by=case.health_bodies_told_by,
            mediation_issues=tuple(case.mediation_issues), health_provision_wanted=case.health_provision_wanted,
        ), subject=case.id)


def _announce_decline(session: AsyncSession, case: Case) -> None:
    assert case.certificate_due_on is not None
    timeline_service.add(session, case_id=case.id, kind="mediation_declined", at=clock.now(),
                         summary=f"Mediation declined; adviser certificate due by {case.certificate_due_on}")
    add_event(session, CaseMediationDeclinedV1(**_facts(case), told_adviser_on=case.told_on,
                                               certificate_due_on=case.certificate_due_on,
                                               late_contact=case.late_contact), subject=case.id)
    add_event(session, ReferralMediationDeclinedV1(case_id=case.id, la_code=case.la_code), subject=case.id)
    add_event(session, CertificateFactsMediationDeclinedV1(
        **_facts(case, contact=False), told_adviser_on=case.told_on, certificate_due_on=case.certificate_due_on,
        late_contact=case.late_contact), subject=case.id)


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    title = "The case cannot make this change in its current status"


def _check_told_on(case: Case, told_on: date, today: date) -> None:
    if told_on > today:
        raise InvalidRequest.field("body.told_on", "must not be in the future")
    if case.notice_sent_on is not None and told_on < case.notice_sent_on:
        raise InvalidRequest.field("body.told_on", "must not be before the case's notice_sent_on")


async def act(session: AsyncSession, case: Case, action: rules.Action, *, told_on: date | None = None,
              mediation_issues: list[str] | None = None, reason: str | None = None,
              today: date | None = None) -> Case:
    """Withdraw, or a parent who changes their mind in either direction (R6, R7). 409 if not allowed."""
    today = today or clock.today()
    if case.kind is CaseKind.disagreement_resolution and action is not rules.Action.withdraw:
        raise TransitionNotAllowed("disagreement resolution has no mediation to decline or request; withdraw it")
    if not rules.can(action, case.status):
        raise TransitionNotAllowed(f"cannot {action.value.replace('_', ' ')} a case that is {case.status.value}")
    if action is rules.Action.withdraw:
        case.status, case.withdrawn_reason = CaseStatus.withdrawn, reason
        timeline_service.add(session, case_id=case.id, kind="withdrawn", at=clock.now(),
                             summary=f"Case withdrawn ({reason})")
        add_event(session, CaseWithdrawnV1(case_id=case.id, la_code=case.la_code, withdrawn_on=today,
                                           reason=reason),
                  subject=case.id)
        add_event(session, ReferralWithdrawnV1(case_id=case.id, la_code=case.la_code, withdrawn_on=today),
                  subject=case.id)
    else:
        assert told_on is not None and case.notice_sent_on is not None  # a mediation case (checked above)
        _check_told_on(case, told_on, today)
        case.told_on = told_on
        if action is rules.Action.decline_mediation:
            kind = CaseKind.mediation_declined
        else:
            kind = CaseKind.mediation
            case.mediation_issues = [issue.strip() for issue in mediation_issues or [] if issue.strip()]
        if kind is CaseKind.mediation and case.health_issues:
            case.health_notice_sent_on = today  # R8: the notice goes to the health bodies again, now
        deadlines = rules.deadlines(kind, notice_sent_on=case.notice_sent_on, told_on=told_on,
                                    calendar=DEFAULT_CALENDAR, adviser_contacted_on=case.adviser_contacted_on,
                                    health_only=case.health_only, health_notice_sent_on=case.health_notice_sent_on)
        case.mediate_by, case.certificate_due_on = deadlines.mediate_by, deadlines.certificate_due_on
        case.status = rules.RESULT[action]
        if action is rules.Action.decline_mediation:
            _announce_decline(session, case)
        else:
            _announce_mediation(session, case)
    session.add(case)
    await session.flush()
    log.info("case.changed", case_id=case.id, action=action.value, status=case.status.value)
    return case


async def list_for_la(session: AsyncSession, *, la_code: str, limit: int, status: CaseStatus | None = None,
                      kind: CaseKind | None = None, deadline_before: date | None = None,
                      cursor: str | None = None) -> tuple[list[Case], str | None]:
    """Newest first, filtered; cursor pagination over (created_at, id)."""
    query = select(Case).where(Case.la_code == la_code)
    if status is not None:
        query = query.where(Case.status == status)
    if kind is not None:
        query = query.where(Case.kind == kind)
    if deadline_before is not None:
        query = query.where(or_(col(Case.mediate_by) < deadline_before, col(Case.certificate_due_on) < deadline_before,
                                col(Case.appeal_deadline) < deadline_before))
    if cursor is not None:
        created_at, case_id = _decode_cursor(cursor)
        query = query.where(or_(col(Case.created_at) < created_at,
                                and_(col(Case.created_at) == created_at, col(Case.id) < case_id)))
    rows = list((await session.exec(
        query.order_by(col(Case.created_at).desc(), col(Case.id).desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1]) if more and rows else None)


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"


def _encode_cursor(case: Case) -> str:
    return base64.urlsafe_b64encode(f"{case.created_at.isoformat()}|{case.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, case_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created_at), case_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor.field("query.cursor", "not a cursor this API returned") from exc


async def advance(session: AsyncSession, case_id: str, status: CaseStatus) -> Case:
    """Move the status forward on another service's event; a withdrawn case stays withdrawn."""
    case = await get_or_raise(session, case_id)
    if rules.follows(case.status, status):
        case.status = status
        session.add(case)
    return case


async def record_conclusion(session: AsyncSession, case_id: str, *, concluded_on: date, held: bool) -> Case:
    """R15: a held mediation starts the mediator certificate's 3 working days (none for health-only, R2)."""
    case = await advance(session, case_id, CaseStatus.meeting_concluded)
    if held and case.kind is CaseKind.mediation:
        case.meeting_concluded_on = concluded_on
        case.certificate_due_on = rules.mediator_certificate_due(kind=case.kind, health_only=case.health_only,
                                                                 concluded_on=concluded_on, calendar=DEFAULT_CALENDAR)
        session.add(case)
    return case


async def record_certificate(session: AsyncSession, case_id: str, issued_on: date) -> Case:
    """R17: the appeal deadline runs from the certificate's issue date too (the later of the two)."""
    case = await advance(session, case_id, CaseStatus.certificate_issued)
    if case.certificate_issued_on is None and case.notice_sent_on is not None:
        case.certificate_issued_on = issued_on
        appeal = rules.appeal(notice_sent_on=case.notice_sent_on, certificate_issued_on=issued_on,
                              health_only=case.health_only)
        if appeal is not None and appeal.day != case.appeal_deadline:  # the timeline names the trigger
            timeline_service.add(session, case_id=case.id, kind="deadline_moved", at=clock.now(),
                                 summary=f"Appeal deadline moved from {case.appeal_deadline} to {appeal.day}: "
                                         f"certificate issued on {issued_on} + 1 month is later (R17)")
        if appeal is not None:
            case.appeal_deadline, case.appeal_deadline_reason = appeal.day, appeal.reason
        session.add(case)
    return case


class NoHealthNotice(Conflict):
    code = "no_health_notice"
    title = "Only an open mediation with health issues has a notice to the health commissioning bodies"


async def record_health_notice(session: AsyncSession, case: Case, *, sent_on: date,
                               today: date | None = None) -> Case:
    """R8: the day the LA's notice actually went to the health commissioning bodies. A health-only
    mediation's 30 days run from it: ``mediate_by`` is reckoned again and scheduling is told."""
    today = today or clock.today()
    if (case.kind is not CaseKind.mediation or not case.health_issues
            or case.status not in (CaseStatus.submitted, CaseStatus.meeting_scheduled)):
        raise NoHealthNotice(f"case {case.id} is not an open mediation with health issues")
    errors = rules.health_notice_errors(sent_on, told_on=case.told_on, today=today, field="body.sent_on")
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)
    assert case.notice_sent_on is not None
    before = case.mediate_by
    case.health_notice_sent_on = sent_on
    deadlines = rules.deadlines(case.kind, notice_sent_on=case.notice_sent_on, told_on=case.told_on,
                                calendar=DEFAULT_CALENDAR, adviser_contacted_on=case.adviser_contacted_on,
                                health_only=case.health_only, health_notice_sent_on=sent_on)
    assert deadlines.mediate_by is not None
    case.mediate_by = deadlines.mediate_by
    session.add(case)
    summary = f"Notice to the health commissioning bodies sent on {sent_on}"
    if case.mediate_by != before:
        summary += (f"; the mediation must now take place by {case.mediate_by}, not {before}: 30 days from the "
                    "notice (R8)")
        trigger, trigger_date = rules.mediation_trigger(health_only=case.health_only, told_on=case.told_on,
                                                        health_notice_sent_on=sent_on)
        add_event(session, CaseDeadlinesChangedV1(
            case_id=case.id, la_code=case.la_code, mediate_by=case.mediate_by,
            last_bookable_day=DEFAULT_CALENDAR.latest_working_day_on_or_before(case.mediate_by),
            trigger=trigger, trigger_date=trigger_date,
        ), subject=case.id)
        add_event(session, ReferralDeadlinesChangedV1(
            case_id=case.id, la_code=case.la_code, mediate_by=case.mediate_by,
            last_bookable_day=DEFAULT_CALENDAR.latest_working_day_on_or_before(case.mediate_by),
        ), subject=case.id)
    timeline_service.add(session, case_id=case.id, kind="deadline_moved" if case.mediate_by != before
                         else "health_notice_sent", at=clock.now(), summary=summary)
    await session.flush()
    log.info("case.health_notice_recorded", case_id=case.id, moved=case.mediate_by != before)
    return case


def explain(case: Case) -> list[rules.Explained]:
    """Every statutory date on the case with its rule, trigger and steps (reckoned from the stored triggers)."""
    return rules.explain(kind=case.kind, notice_sent_on=case.notice_sent_on, told_on=case.told_on,
                         adviser_contacted_on=case.adviser_contacted_on, health_issues=case.health_issues,
                         health_only=case.health_only, health_notice_sent_on=case.health_notice_sent_on,
                         certificate_issued_on=case.certificate_issued_on, calendar=DEFAULT_CALENDAR,
                         meeting_concluded_on=case.meeting_concluded_on)


def check_exemption(matters: set[rules.AppealMatter], *, notice_sent_on: date) -> tuple[
        rules.CertificateRequirement, date | None, str | None]:
    """R3: answered at once. For an exempt case the appeal deadline is A (R17.3)."""
    requirement = rules.certificate_requirement(matters)
    if requirement.certificate_required:
        return requirement, None, None
    appeal = appeal_deadline(notice_sent_on=notice_sent_on, certificate_issued_on=None)
    return requirement, appeal.day, appeal.reason
