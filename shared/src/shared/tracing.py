"""Distributed tracing with OpenTelemetry: one trace follows a case from the portal's request through every
service's events (W3C trace context in the CloudEvents ``traceparent`` attribute).

Spans are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set,
and otherwise only created, so the trace ids still join requests, events and log lines. Span attributes carry
ids and event types, never personal data.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_configured = False
tracer = trace.get_tracer("send-mediation")


def configure_tracing(service: str) -> None:
    """Install the SDK's tracer provider once per process, exporting over OTLP when an endpoint is set."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"send-mediation-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span in progress, for an event recorded now; None outside any span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def consuming(event_type: str, *, event_id: str, traceparent: str | None, service: str) -> Iterator[Any]:
    """A consumer span for one event, continuing the trace of whoever recorded it."""
    parent = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else context.Context()
    with tracer.start_as_current_span(f"consume {event_type}", context=parent, kind=trace.SpanKind.CONSUMER,
                                      attributes={"messaging.system": "kafka", "messaging.message.id": event_id,
                                                  "cloudevents.event_type": event_type,
                                                  "service.consumer": service}) as span:
        yield span


def trace_ids() -> dict[str, str]:
    """The current trace and span ids for a log line, or nothing outside a span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {"trace_id": format(span_context.trace_id, "032x"), "span_id": format(span_context.span_id, "016x")}
