"""Scheduling's app factory: ``uvicorn scheduling.main:create_app --factory``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from scheduling import metrics
from scheduling.consumers import SUBSCRIPTIONS
from scheduling.mediator import service as mediator_service
from scheduling.mediator.routes import router as mediator_router
from scheduling.meeting import deadlines
from scheduling.meeting.routes import router as meeting_router
from scheduling.outbound import dispatcher
from scheduling.outbound import service as outbound_service
from scheduling.outbound.models import WebhookEndpoint
from scheduling.outbound.routes import router as outbound_router
from scheduling.outbound.schemas import CaseReferred, MeetingCancelled
from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET, SchedulingSettings, get_settings
from scheduling.webhook.routes import provider_webhook_schemas
from scheduling.webhook.routes import router as webhook_router
from shared.db import advisory_xact_lock
from shared.events.meetings import TIMELINE_TOPIC, ProviderEndpointDisabledV1
from shared.events.meetings import TOPIC as MEETINGS_TOPIC
from shared.runtime import ServiceRuntime, WorkerSpec, build_app

SEEDING_LOCK = "scheduling.seed_development_data"


async def seed_development_data(runtime: ServiceRuntime) -> None:
    """The development pool of mediators, and the provider endpoint named by SCHEDULING_PROVIDER_WEBHOOK_URL."""
    settings: SchedulingSettings = runtime.settings  # type: ignore[assignment]
    async with runtime.sessionmaker() as session:
        await advisory_xact_lock(session, SEEDING_LOCK)  # replicas starting together seed one after another
        if settings.seed_mediators:
            path = Path(str(resources.files("scheduling.data").joinpath("mediators.yaml")))
            await mediator_service.seed_mediators(session, path)
        if settings.provider_webhook_url and await session.get(WebhookEndpoint, "ep_development") is None:
            await outbound_service.create_endpoint(session, provider_id="kids-send-mediation",
                                                   url=settings.provider_webhook_url, endpoint_id="ep_development",
                                                   secret=DEVELOPMENT_PROVIDER_SECRET)
        await session.commit()


def create_app(settings: SchedulingSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(
        settings=settings, service="scheduling", migrations="scheduling:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(MEETINGS_TOPIC, TIMELINE_TOPIC, ProviderEndpointDisabledV1.topic),
        on_start=seed_development_data,
        workers=[WorkerSpec(outbound_service.DISPATCHER, dispatcher.make_step, poll_interval=1.0),
                 WorkerSpec(deadlines.DEADLINE_WATCH, deadlines.make_step,
                            poll_interval=settings.deadline_watch_interval_seconds)],
        refresh_metrics=metrics.refresh,
    )
    app = build_app(
        runtime, title="SEND mediation: scheduling",
        description="Independent mediators, statutory booking rules and the mediation provider's signed webhooks.",
    )
    app.include_router(meeting_router)
    app.include_router(webhook_router)
    _document_provider_webhooks(app)
    app.include_router(outbound_router)
    app.include_router(mediator_router)
    _document_outbound_webhooks(app)
    return app


def _document_provider_webhooks(app: FastAPI) -> None:
    """The inbound webhook's body is a tagged union; its schemas join the document's components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(provider_webhook_schemas())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _document_outbound_webhooks(app: FastAPI) -> None:
    """What the provider receives, in the OpenAPI document's `webhooks` section."""

    @app.webhooks.post("case.referred", summary="A case is referred to you, with its booked meeting",
                       responses={200: {"description": "Any 2xx acknowledges; 410 disables the endpoint; "
                                                       "anything else is retried (Retry-After honoured)"}})
    def case_referred(body: CaseReferred) -> None:
        """Signed with Standard Webhooks; retried on the schedule now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
        14 h, 20 h, 24 h under the same webhook-id."""

    @app.webhooks.post("meeting.cancelled", summary="A booked meeting is called off")
    def meeting_cancelled(body: MeetingCancelled) -> None:
        """Signed and retried like every webhook we send."""

