"""Notifications' own Prometheus metrics (served on /metrics with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter

DEADLINE_ALERTS = Counter(
    "notifications_deadline_alerts_total",
    "Deadline-bound messages that failed permanently: someone must contact the recipient another way",
    ["template"],
)
