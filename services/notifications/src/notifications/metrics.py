"""Notifications' own Prometheus metrics (served on /metrics with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.message.catalogue import TEMPLATES
from notifications.message.models import Message, MessageStatus
from shared.metrics import replace_series

DEADLINE_ALERTS = Counter(
    "notifications_deadline_alerts_total",
    "Deadline-bound messages that failed permanently: someone must contact the recipient another way",
    ["template"],
)

OPS_ALERTS = Counter(
    "notifications_ops_alerts_total",
    "Statutory deadlines in trouble, emailed to the LA and ops: deadline_breached (R10 day 30), deadline_at_risk; "
    "provider_endpoint_disabled (to ops only)",
    ["kind"],
)

# Counted from the database on every scrape (right after a restart, in every process), for the statutory dashboard.
DEADLINE_MESSAGES_FAILED = Gauge(
    "deadline_messages_failed",
    "Deadline-bound emails that failed permanently and were not resent: a person must reach the recipient another "
    "way, by LA and template",
    ["la", "template"],
)


async def refresh(session: AsyncSession) -> None:
    names = [name for name, spec in TEMPLATES.items() if spec.deadline_bound]
    las = [str(la) for la in (await session.exec(select(Message.la_code).distinct())).all()]
    failed = (await session.exec(
        select(Message.la_code, Message.template, func.count())
        .where(Message.status == MessageStatus.failed, col(Message.template).in_(names))
        .group_by(Message.la_code, Message.template))).all()
    # Zeros per LA only (not per template): the panel sums over templates, and the series stay few.
    replace_series(DEADLINE_MESSAGES_FAILED, {(la, template): n for la, template, n in failed},
                   zeros=[(la, "none") for la in las])
