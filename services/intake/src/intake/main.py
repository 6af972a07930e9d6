"""Intake's app factory: ``uvicorn intake.main:create_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from intake import metrics
from intake.case.models import CaseKind
from intake.case.routes import exemption_router
from intake.case.routes import router as case_router
from intake.consumers import SUBSCRIPTIONS
from intake.review.routes import router as review_router
from intake.settings import IntakeSettings, get_settings
from shared.events.cases import CERTIFICATE_FACTS_TOPIC, HEALTH_REFERRALS_TOPIC, REFERRALS_TOPIC
from shared.events.cases import TOPIC as CASES_TOPIC
from shared.runtime import ServiceRuntime, build_app


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        settings=settings or get_settings(), service="intake", migrations="intake:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(CASES_TOPIC, REFERRALS_TOPIC, CERTIFICATE_FACTS_TOPIC,
                                                        HEALTH_REFERRALS_TOPIC),
        refresh_metrics=metrics.refresh,
    )
    app = build_app(
        runtime, title="SEND mediation: intake",
        description="The council-portal API: submit a request for SEND mediation, or a decline of it, "
                    "and follow the case through booking, outcome and certificate.",
        union_tags=frozenset(kind.value for kind in CaseKind),  # POST /v1/cases is tagged by `kind`
    )
    app.include_router(case_router)
    app.include_router(exemption_router)
    app.include_router(review_router)
    return app
