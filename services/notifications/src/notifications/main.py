"""Notifications' app factory: ``uvicorn notifications.main:create_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from notifications import metrics
from notifications.consumers import SUBSCRIPTIONS
from notifications.message import sender
from notifications.message.routes import router as message_router
from notifications.message.service import SENDER
from notifications.reminder import worker as reminder_worker
from notifications.reminder.service import SCHEDULER
from notifications.settings import NotificationsSettings, get_settings
from shared.events.notifications import TOPIC as MESSAGES_TOPIC
from shared.runtime import ServiceRuntime, WorkerSpec, build_app


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(
        settings=settings, service="notifications", migrations="notifications:migrations",
        subscriptions=SUBSCRIPTIONS, produces_topics=(MESSAGES_TOPIC,),
        workers=[WorkerSpec(SENDER, sender.make_step, poll_interval=1.0),
                 WorkerSpec(SCHEDULER, reminder_worker.make_step, poll_interval=settings.reminder_poll_interval_seconds)],
        refresh_metrics=metrics.refresh,
        concurrent_partitions=True,  # each case's messages and reminders are its own rows
        relay_gather_seconds=0.05,  # delivery outcomes for the timelines: a few to a batch, not one each
    )
    app = build_app(
        runtime, title="SEND mediation: notifications",
        description="Emails to parents and young people for every step, with calendar invitations and the "
                    "certificate attached; a delivery log for operations staff.",
    )
    app.include_router(message_router)
    return app
