"""Notifications' own Prometheus metrics (served on /metrics with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter

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
