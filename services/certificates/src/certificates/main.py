"""Certificates' app factory: ``uvicorn certificates.main:create_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from certificates import metrics
from certificates.certificate import issuer
from certificates.certificate.documents import Documents
from certificates.certificate.routes import review_router, verify_router
from certificates.certificate.routes import router as certificate_router
from certificates.certificate.service import ISSUER, Issuing
from certificates.certificate.verification import TokenBucket
from certificates.consumers import SUBSCRIPTIONS
from certificates.settings import CertificatesSettings, get_settings
from shared.events import CertificateDocumentReadyV1, CertificateIssuedV1
from shared.runtime import ServiceRuntime, WorkerSpec, build_app


def create_app(settings: CertificatesSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Fails fast in production without a configured key; generates one in development.
    documents = Documents(settings.signing(), processes=settings.signing_processes,
                          timeout=settings.signing_timeout_seconds)
    issuing = Issuing(number_prefix=settings.number_prefix, public_base_url=settings.public_base_url,
                      documents=documents)

    async def start_documents(runtime: ServiceRuntime) -> None:
        documents.start()
        runtime.resources.push_async_callback(documents.aclose)  # after the issuer and the API have stopped
    runtime = ServiceRuntime(
        settings=settings, service="certificates", migrations="certificates:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(CertificateIssuedV1.topic, CertificateDocumentReadyV1.topic),
        workers=[WorkerSpec(ISSUER, lambda runtime: issuer.make_step(runtime, issuing))],
        refresh_metrics=metrics.refresh, on_start=start_documents,
    )
    app = build_app(
        runtime, title="SEND mediation: certificates",
        description="Mediation certificates (adviser, mediator, missed 30 days): issued exactly once per trigger, "
                    "as signed PDFs, for the council portal to download; corrections; public verification; reviews where no "
                    "certificate is automatic (late contact, mediation after a missed 30 days).",
    )
    app.state.issuing = issuing
    app.state.verify_limiter = TokenBucket(burst=settings.verify_burst, per_minute=settings.verify_per_minute)
    app.include_router(certificate_router)
    app.include_router(verify_router)
    app.include_router(review_router)
    return app
