"""Certificates' app factory: ``uvicorn certificates.main:create_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from certificates.certificate import issuer
from certificates.certificate.routes import router as certificate_router
from certificates.certificate.service import ISSUER
from certificates.consumers import SUBSCRIPTIONS
from certificates.settings import CertificatesSettings, get_settings
from shared.events import CertificateDocumentReadyV1, CertificateIssuedV1
from shared.runtime import ServiceRuntime, WorkerSpec, build_app


def create_app(settings: CertificatesSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        settings=settings or get_settings(), service="certificates", migrations="certificates:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(CertificateIssuedV1.topic, CertificateDocumentReadyV1.topic),
        workers=[WorkerSpec(ISSUER, issuer.make_step)],
    )
    app = build_app(
        runtime, title="SEND mediation: certificates",
        description="Mediation certificates (adviser, mediator, missed 30 days): issued exactly once per trigger, "
                    "as PDFs, for the council portal to download.",
    )
    app.include_router(certificate_router)
    return app
