from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from certificates.certificate import service as certificate_service
from certificates.certificate.models import ReviewStatus
from certificates.certificate.schemas import (
    CertificateOutcomeRead,
    CertificateRead,
    CertificateReissue,
    CertificateVoid,
    ReviewRead,
    ReviewResolve,
    VerificationRead,
    VerificationRequest,
)
from certificates.certificate.verification import TokenBucket
from shared import clock
from shared.auth import AUTH_RESPONSES, ApiClient, authenticate, require_any_scope, require_scope
from shared.deps import SessionDep
from shared.errors import VALIDATION_RESPONSES, Forbidden, Unauthorized
from shared.logging import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/v1/certificates", tags=["certificates"])
verify_router = APIRouter(prefix="/v1/verify", tags=["verification"])
review_router = APIRouter(prefix="/v1/reviews", tags=["reviews"])
PortalReader = Annotated[ApiClient, Depends(require_scope("certificates:read"))]
#: The LA's portal (its own LA) or operations (every LA).
PortalOrOps = Annotated[ApiClient, Depends(require_any_scope("certificates:read", "ops:read"))]
NOT_FOUND = certificate_service.CertificateNotFound.response("No issued certificate with this id for this LA")
NOT_CURRENT = certificate_service.CertificateNotCurrent.response("The certificate was already replaced or revoked")
_bearer = HTTPBearer(auto_error=False)


def _corrector(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiClient:
    """A portal with ``certificates:write`` corrects its own LA's certificates; ops (``ops:write``) any LA's."""
    if credentials is None:
        raise Unauthorized("send an Authorization: Bearer <token> header")
    client = authenticate(request.app.state.runtime.settings.api_clients, credentials.credentials)
    if client is None:
        raise Unauthorized("unknown bearer token")
    if "ops:write" in client.scopes:
        return client
    if "certificates:write" in client.scopes and client.la_code is not None:
        return client
    raise Forbidden("this client lacks the scope 'certificates:write' (or 'ops:write')")


Corrector = Annotated[ApiClient, Depends(_corrector)]


def _la_scope(client: ApiClient) -> str | None:
    return None if "ops:write" in client.scopes else client.la_code


def _read_scope(client: ApiClient) -> str | None:
    return None if "ops:read" in client.scopes or "ops:write" in client.scopes else client.la_code


@router.get("", response_model=list[CertificateOutcomeRead], summary="What became of each trigger of a case",
            responses={**AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def list_case_certificates(case_id: Annotated[str, Query(max_length=36, description="The case")],
                                 session: SessionDep, client: PortalOrOps) -> list[CertificateOutcomeRead]:
    """Every decline, concluded mediation and missed 30 days of the case, oldest first: issued (with its number
    and appeal deadline), held for a review (R4), refused on review, or not required, with the reason in
    ``outcome`` (R2 health-only: "no certificate: health-only"; R10: the earlier certificate stays the one that
    counts). An unknown case, or another LA's, answers an empty list."""
    rows = await certificate_service.case_outcomes(session, case_id, la_code=_read_scope(client))
    return [CertificateOutcomeRead.model_validate(row) for row in rows]


@router.get("/{certificate_id}", response_model=CertificateRead, summary="A certificate's facts",
            responses={**NOT_FOUND, **AUTH_RESPONSES})
async def get_certificate(certificate_id: str, session: SessionDep, client: PortalReader) -> CertificateRead:
    certificate = await certificate_service.get_for_la(session, certificate_id, la_code=client.la_code)
    return CertificateRead.model_validate(certificate)


@router.get(
    "/{certificate_id}/pdf",
    response_class=Response,
    summary="Download the signed certificate PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "The certificate"},
               **NOT_FOUND, **AUTH_RESPONSES},
)
async def download_certificate(certificate_id: str, session: SessionDep, client: PortalReader) -> Response:
    """The portal downloads only its own LA's certificates; every download is logged for audit."""
    certificate = await certificate_service.get_for_la(session, certificate_id, la_code=client.la_code)
    log.info("audit.certificate_downloaded", certificate_id=certificate.id, case_id=certificate.case_id,
             client=client.name)
    return Response(certificate.pdf or b"", media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{certificate.number}.pdf"'})


@router.post("/{certificate_id}/reissue", status_code=201, response_model=CertificateRead,
             summary="Correct a certificate: issue a new version that keeps the original issue date",
             responses={**NOT_FOUND, **NOT_CURRENT, **AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def reissue_certificate(certificate_id: str, body: CertificateReissue, request: Request,
                              session: SessionDep, client: Corrector) -> CertificateRead:
    """R16. The new version has its own number; the old number then verifies as "superseded".

    Announces ``certificate.reissued`` and sends the corrected PDF to the family.
    """
    new = await certificate_service.reissue(
        session, certificate_id, la_code=_la_scope(client), issuing=request.app.state.issuing, reason=body.reason,
        issuer=body.issuer, provider=body.provider, mediation_date=body.mediation_date)
    await session.commit()
    log.info("audit.certificate_reissue_requested", certificate_id=new.id, case_id=new.case_id, client=client.name)
    return CertificateRead.model_validate(new)


@router.post("/{certificate_id}/void", response_model=CertificateRead, summary="Revoke a certificate",
             responses={**NOT_FOUND, **NOT_CURRENT, **AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def void_certificate(certificate_id: str, body: CertificateVoid, session: SessionDep,
                           client: Corrector) -> CertificateRead:
    """Its number then verifies as "revoked". Announces ``certificate.voided``."""
    certificate = await certificate_service.void(session, certificate_id, la_code=_la_scope(client),
                                                 reason=body.reason, note=body.note)
    await session.commit()
    log.info("audit.certificate_void_requested", certificate_id=certificate.id, case_id=certificate.case_id,
             client=client.name)
    return CertificateRead.model_validate(certificate)


NO_MATCH: dict[str, Any] = {
    "status": "not_found",
    "detail": "No certificate matches this number, verification code and surname. Check them and try again.",
}
RATE_LIMITED: dict[str, Any] = {"status": "rate_limited", "detail": "Too many checks; try again later."}
VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown number, wrong code or wrong surname: the same answer for each", "content": {
        "application/json": {"example": NO_MATCH}}},
    429: {"description": "Too many checks from this address, or too many wrong answers for this number (known or "
                         "not); see Retry-After", "content": {"application/json": {"example": RATE_LIMITED}}},
}


def _rate_limited(wait: float) -> JSONResponse:
    return JSONResponse(RATE_LIMITED, status_code=429, headers={"Retry-After": str(max(1, round(wait)))})


@verify_router.post("", response_model=VerificationRead, summary="Check a certificate (no login)",
                    responses={**VERIFY_RESPONSES, **VALIDATION_RESPONSES})
async def verify_certificate(body: VerificationRequest, request: Request, session: SessionDep) -> Any:
    """For a Tribunal clerk or the family: is this certificate valid, superseded by a correction, or revoked?

    Needs the number, the verification code printed on the certificate (and in its QR code) and the surname of
    the parent or young person. An unknown number, a wrong code and a wrong surname get the same answer. Each
    address may make only a few checks a minute, and after a few wrong answers for one number (known or not)
    that number refuses every check, even a right one, for a while: so nothing can be learnt by guessing.
    """
    settings = request.app.state.runtime.settings
    limiter: TokenBucket = request.app.state.verify_limiter
    wait = limiter.take(request.client.host if request.client else "unknown")
    if wait > 0:
        return _rate_limited(wait)
    locked = await certificate_service.verification_locked_for(
        session, body.number, limit=settings.verify_failures_per_number, window_minutes=settings.verify_lockout_minutes)
    if locked > 0:
        log.info("certificate.verification", outcome="number_locked")
        return _rate_limited(locked)
    found = await certificate_service.verify(session, number=body.number, code=body.code, surname=body.surname)
    if found is None:
        await certificate_service.record_verification_failure(session, body.number,
                                                              window_minutes=settings.verify_lockout_minutes)
        log.info("certificate.verification", outcome="no_match")
        return JSONResponse(NO_MATCH, status_code=404)
    certificate = found.certificate
    log.info("certificate.verification", outcome=found.status, certificate_id=certificate.id)
    return VerificationRead(
        status=found.status, number=certificate.number or "", kind=certificate.kind,
        issued_on=certificate.issued_on, appeal_deadline=certificate.appeal_deadline,
        local_authority=found.la_name, superseded_by=found.superseded_by_number,
        revoked_on=clock.london_date(certificate.voided_at) if certificate.voided_at else None,
    )


PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Check a SEND mediation certificate</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
label{{display:block;margin-top:1rem;font-weight:600}}input{{font-size:1.1rem;width:100%;padding:.4rem}}
button{{margin-top:1rem;font-size:1.1rem;padding:.5rem 1rem}}</style></head>
<body><h1>Check a SEND mediation certificate</h1>
<p>Enter the certificate number, its verification code and the surname of the parent or young person named on
it.</p>
<form id="check"><label for="number">Certificate number</label>
<input id="number" name="number" value="{number}" autocomplete="off" required>
<label for="code">Verification code</label>
<input id="code" name="code" value="{code}" autocomplete="off" required>
<label for="surname">Surname</label><input id="surname" name="surname" autocomplete="off" required>
<button type="submit">Check</button></form>
<p id="answer" role="status" aria-live="polite"></p>
<script>
document.getElementById("check").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const body = {{number: e.target.number.value, code: e.target.code.value, surname: e.target.surname.value}};
  const r = await fetch("{action}", {{method: "POST", headers: {{"content-type": "application/json"}},
                                     body: JSON.stringify(body)}});
  const a = await r.json();
  const out = document.getElementById("answer");
  if (a.status === "valid") out.textContent = `Valid: ${{a.kind}} certificate ${{a.number}}, issued on ${{a.issued_on}}` +
      ` for ${{a.local_authority}}. The appeal deadline is 5pm on ${{a.appeal_deadline}}.`;
  else if (a.status === "superseded") out.textContent = `Superseded: certificate ${{a.number}} was replaced by a` +
      ` corrected version, ${{a.superseded_by}}, with the same issue date (${{a.issued_on}}).`;
  else if (a.status === "revoked") out.textContent = `Revoked on ${{a.revoked_on}}: certificate ${{a.number}} is not valid.`;
  else out.textContent = a.detail;
}});
</script></body></html>
"""


@verify_router.get("", response_class=HTMLResponse, summary="The verification page the certificate's QR code opens")
async def verification_page(number: Annotated[str, Query(max_length=32)] = "",
                            code: Annotated[str, Query(max_length=32)] = "") -> HTMLResponse:
    """A form for the number and the verification code (both pre-filled from the QR code) and the surname; the
    surname is POSTed, never put in a URL."""
    return HTMLResponse(PAGE.format(number=escape(number), code=escape(code), action="/v1/verify"))


REVIEW_NOT_FOUND = certificate_service.ReviewNotFound.response("No review with this id for this LA")
REVIEW_RESOLVED = certificate_service.ReviewAlreadyResolved.response(
    "The review was already resolved (code review_already_resolved), or the R10 certificate it would replace was "
    "revoked meanwhile (code certificate_not_current)")


@review_router.get("", response_model=list[ReviewRead], summary="Reviews: decisions a person must take",
                   responses={**AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def list_reviews(session: SessionDep, client: PortalOrOps,
                       status: Annotated[ReviewStatus | None, Query(description="open or resolved")] = None,
                       case_id: Annotated[str | None, Query(max_length=36)] = None) -> list[ReviewRead]:
    """Where no certificate was issued automatically: late contact with the adviser (R4), or mediation that took
    place after a certificate for a missed 30 days (R10). The LA's portal sees its own LA's; ops sees all."""
    rows = await certificate_service.list_reviews(session, la_code=_read_scope(client), status=status,
                                                  case_id=case_id)
    return [ReviewRead.model_validate(row) for row in rows]


@review_router.post("/{review_id}/resolve", response_model=ReviewRead, summary="Decide a review: issue or refuse",
                    responses={**REVIEW_NOT_FOUND, **REVIEW_RESOLVED, **AUTH_RESPONSES, **VALIDATION_RESPONSES})
async def resolve_review(review_id: str, body: ReviewResolve, request: Request, session: SessionDep,
                         client: Corrector) -> ReviewRead:
    """``issue`` after late contact (R4): the held certificate goes to the issuer, which numbers, signs and
    announces it (``certificate.issued``) exactly once. ``issue`` after R10 then mediation: the R10 certificate
    is replaced by a corrected version (R16) recording the mediation date and keeping the issue date, so the
    appeal deadline does not move and only the new number verifies as valid. ``refuse``: nothing is issued.
    A portal with ``certificates:write`` decides its own LA's reviews; ops (``ops:write``) any LA's."""
    review = await certificate_service.resolve_review(
        session, review_id, la_code=_la_scope(client), issuing=request.app.state.issuing, decision=body.decision,
        reason=body.reason, resolved_by=client.name)
    await session.commit()
    return ReviewRead.model_validate(review)
