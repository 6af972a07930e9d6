"""Tracing: an event recorded inside a span carries its W3C traceparent, and its consumer continues the trace."""

from __future__ import annotations

import re

from shared import tracing

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def setup_module() -> None:
    tracing.configure_tracing("test")


def test_outside_any_span_there_is_no_traceparent_and_no_trace_id_in_logs():
    assert tracing.current_traceparent() is None
    assert tracing.trace_ids() == {}


def test_inside_a_span_the_traceparent_names_its_trace_and_span():
    with tracing.tracer.start_as_current_span("request") as span:
        traceparent = tracing.current_traceparent()
        ids = tracing.trace_ids()

    match = TRACEPARENT.match(traceparent or "")
    assert match is not None
    assert match.group(1) == format(span.get_span_context().trace_id, "032x") == ids["trace_id"]
    assert match.group(2) == ids["span_id"]


def test_consuming_an_event_continues_the_producers_trace_in_a_child_span():
    with tracing.tracer.start_as_current_span("request"):
        traceparent = tracing.current_traceparent()
        producer = tracing.trace_ids()

    with tracing.consuming("case.submitted.v1", event_id="evt-1", traceparent=traceparent, service="scheduling"):
        consumer = tracing.trace_ids()

    assert consumer["trace_id"] == producer["trace_id"]
    assert consumer["span_id"] != producer["span_id"]


def test_an_event_without_a_traceparent_starts_a_new_trace():
    with tracing.consuming("case.submitted.v1", event_id="evt-2", traceparent=None, service="scheduling"):
        assert tracing.trace_ids()["trace_id"]
