"""Cases: rows, timeline entries and outbox events in one transaction. Flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.case import rules
from intake.case.models import Case, CaseKind, CaseStatus, IdempotencyRecord
from intake.case.schemas import CaseCreate
from intake.timeline import service as timeline_service
from shared.calendar import DEFAULT_CALENDAR
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.events.cases import CaseMediationDeclinedV1, CaseSubmittedV1, Party
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


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
    """Apply the intake rules, store the case and record its event (R4, R6, R8, R23)."""
    today = today or datetime.now(UTC).date()
    errors = rules.date_errors(decision_date=body.decision_date, notice_sent_on=body.notice_sent_on,
                               told_on=body.told_on, today=today)
    if errors:
        raise InvalidRequest("; ".join(f"{e.field}: {e.reason}" for e in errors), errors=errors)
    deadlines = rules.deadlines(body.kind, notice_sent_on=body.notice_sent_on, told_on=body.told_on,
                                calendar=DEFAULT_CALENDAR)
    declined = body.kind is CaseKind.mediation_declined
    case = Case(
        reference=new_reference(), la_code=la_code, kind=body.kind,
        status=CaseStatus.declined if declined else CaseStatus.submitted,
        decision=body.decision, decision_date=body.decision_date, notice_sent_on=body.notice_sent_on,
        told_on=body.told_on, requester_role=body.requester.role, requester_name=body.requester.name,
        requester_email=str(body.requester.email), child_name=body.child.name,
        child_date_of_birth=body.child.date_of_birth, mediation_issues=[i.strip() for i in body.mediation_issues],
        health_issues=body.health_issues, contact_window_ends_on=deadlines.contact_window_ends_on,
        late_contact=deadlines.late_contact, mediate_by=deadlines.mediate_by,
        certificate_due_on=deadlines.certificate_due_on,
    )
    session.add(case)
    if key is not None:
        session.add(IdempotencyRecord(la_code=la_code, key=key, request_hash=request_hash(body), case_id=case.id))
    now = datetime.now(UTC)
    facts = dict(
        case_id=case.id, reference=case.reference, la_code=la_code, decision=body.decision,
        notice_sent_on=body.notice_sent_on,
        requester=Party(role=body.requester.role, name=body.requester.name, email=str(body.requester.email)),
    )
    if declined:
        timeline_service.add(session, case_id=case.id, kind="mediation_declined", at=now,
                             summary=f"Mediation declined; adviser certificate due by {deadlines.certificate_due_on}")
        assert deadlines.certificate_due_on is not None
        add_event(session, CaseMediationDeclinedV1(**facts, told_adviser_on=body.told_on,
                                                   certificate_due_on=deadlines.certificate_due_on),
                  subject=case.id)
    else:
        timeline_service.add(session, case_id=case.id, kind="submitted", at=now,
                             summary=f"Mediation requested; must take place by {deadlines.mediate_by}")
        assert deadlines.mediate_by is not None
        add_event(session, CaseSubmittedV1(**facts, mediate_by=deadlines.mediate_by,
                                           health_issues=body.health_issues), subject=case.id)
    await session.flush()
    log.info("case.received", case_id=case.id, kind=case.kind, la_code=la_code, late_contact=case.late_contact)
    return case


async def list_for_la(session: AsyncSession, *, la_code: str, limit: int) -> list[Case]:
    result = await session.exec(
        select(Case).where(Case.la_code == la_code).order_by(col(Case.created_at).desc()).limit(limit)
    )
    return list(result.all())


async def advance(session: AsyncSession, case_id: str, status: CaseStatus) -> Case:
    case = await get_or_raise(session, case_id)
    case.status = status
    session.add(case)
    return case
