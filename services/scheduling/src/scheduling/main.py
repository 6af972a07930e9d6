"""Scheduling's app factory: ``uvicorn scheduling.main:create_app --factory``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI

from scheduling.consumers import SUBSCRIPTIONS
from scheduling.meeting import service as meeting_service
from scheduling.settings import SchedulingSettings, get_settings
from scheduling.webhook.routes import router as webhook_router
from shared.events.meetings import TOPIC as MEETINGS_TOPIC
from shared.runtime import ServiceRuntime, build_app


async def seed_development_mediators(runtime: ServiceRuntime) -> None:
    if not getattr(runtime.settings, "seed_mediators", False):
        return
    path = Path(str(resources.files("scheduling.data").joinpath("mediators.yaml")))
    async with runtime.sessionmaker() as session:
        await meeting_service.seed_mediators(session, path)
        await session.commit()


def create_app(settings: SchedulingSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        settings=settings or get_settings(), service="scheduling", migrations="scheduling:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(MEETINGS_TOPIC,), on_start=seed_development_mediators,
    )
    app = build_app(
        runtime, title="SEND mediation: scheduling",
        description="Independent mediators, statutory booking rules and the mediation provider's signed webhooks.",
    )
    app.include_router(webhook_router)
    return app
