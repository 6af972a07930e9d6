from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from certificates.certificate import service as certificate_service
from certificates.certificate.schemas import CertificateRead
from shared.auth import AUTH_RESPONSES, ApiClient, require_scope
from shared.deps import SessionDep
from shared.logging import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/v1/certificates", tags=["certificates"])
PortalReader = Annotated[ApiClient, Depends(require_scope("certificates:read"))]
NOT_FOUND = certificate_service.CertificateNotFound.response("No issued certificate with this id for this LA")


@router.get("/{certificate_id}", response_model=CertificateRead, summary="A certificate's facts",
            responses={**NOT_FOUND, **AUTH_RESPONSES})
async def get_certificate(certificate_id: str, session: SessionDep, client: PortalReader) -> CertificateRead:
    certificate = await certificate_service.get_for_la(session, certificate_id, la_code=client.la_code)
    return CertificateRead.model_validate(certificate)


@router.get(
    "/{certificate_id}/pdf",
    response_class=Response,
    summary="Download the certificate PDF",
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
