"""Prometheus metrics every service exposes on /metrics (one process = one service)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total", "Events taken from Kafka", ["service", "type", "outcome"]
)
EVENTS_PUBLISHED = Counter("events_published_total", "Events published by the outbox relay", ["service", "topic"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered_total", "Events sent to the dead-letter topic", ["service", "reason"])
EVENTS_UNKNOWN_TYPE = Counter("events_unknown_type_total", "Events of a type no model knows (dead-lettered)",
                              ["service", "type"])
DEAD_LETTERS_WAITING = Gauge("dead_letters_waiting", "Dead letters neither re-driven nor discarded", ["service"])
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox events not yet published", ["service"])
CONSUMER_LAG = Gauge("consumer_lag", "Records behind the partition end", ["service", "topic", "partition"])
WORKER_FAILURES = Counter("worker_failures_total", "Background worker step failures", ["service", "worker"])
WORKER_ITEM_FAILURES = Counter("worker_item_failures_total", "Work items that failed (not for an outage)",
                               ["service", "worker"])
WORKER_ITEMS_PARKED = Counter("worker_items_parked_total", "Work items parked after bounded tries",
                              ["service", "worker", "reason"])
WORKER_ITEMS_PARKED_WAITING = Gauge("worker_items_parked_waiting", "Parked items waiting for ops",
                                    ["service", "worker"])
WORKER_STUCK = Gauge("worker_stuck", "1 while a worker has failed continuously (not an outage) past the threshold",
                     ["service", "worker"])


def replace_series(gauge: Gauge, values: Mapping[tuple[str, ...], float],
                   *, zeros: Iterable[tuple[str, ...]] = ()) -> None:
    """Set a labelled gauge to ``values`` (counted from the database), as one step: a label set no longer in
    the database leaves /metrics, and each of ``zeros`` not in ``values`` shows 0 (so a panel per LA has a series
    before its first late certificate). Nothing awaits between the clear and the sets, so no scrape sees a gap."""
    gauge.clear()
    for labels in zeros:
        gauge.labels(*labels).set(0)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """ASGI middleware: ``http_requests_total`` and ``http_request_duration_seconds`` for every HTTP request.

    Pure ASGI, not ``BaseHTTPMiddleware`` (``app.middleware("http")``), which runs the rest of the app in a task
    of its own and streams the response back through a memory channel: a fifth of intake's CPU per request.
    The status is the one the response starts with; 500 when the app raises before answering (the server's
    error handler, outside this middleware, answers 500).
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            # The router records the matched route (a path template, never a raw path with ids in it).
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - started)
