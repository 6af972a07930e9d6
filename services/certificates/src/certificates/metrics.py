"""Certificates' business metrics, beside the ones every service exposes (shared.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CERTIFICATES_ISSUED = Counter("certificates_issued_total", "Certificates issued (first versions)", ["kind"])
CERTIFICATES_ISSUED_LATE = Counter(
    "certificates_issued_late_total",
    "Certificates issued after their due date (3 working days after the trigger: R6, R10, R15)", ["kind"],
)
CERTIFICATES_WAITING_OVERDUE = Gauge(
    "certificates_waiting_overdue",
    "Certificates triggered but not issued, past their due date (e.g. the case's facts never arrived)",
)
