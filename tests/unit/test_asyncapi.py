"""The AsyncAPI document states the Kafka headers the codec really writes, and the checked-in copy is current."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shared.events import CaseSubmittedV1
from shared.events.asyncapi import document, main
from shared.events.envelope import Envelope
from shared.kafka.codec import encode
from tests.unit.test_codec import CASE_ID, case_submitted

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi.yaml"


def every_attribute_set() -> Envelope[CaseSubmittedV1]:
    return Envelope.wrap(case_submitted(), source="/intake", subject=CASE_ID, id="evt-1",
                         time=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
                         traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")


def documented_headers(event_type: str) -> dict:
    [message] = [m for m in document()["components"]["messages"].values() if m["name"] == event_type]
    return message["headers"]


def test_the_documented_headers_are_exactly_those_the_codec_writes():
    written = {name for name, _ in encode(every_attribute_set(), "intake.cases").headers}

    assert set(documented_headers("case.submitted.v1")["properties"]) == written


def test_the_documented_required_headers_are_those_written_when_no_optional_attribute_is_set():
    minimal = Envelope.wrap(case_submitted(), source="/intake", subject=CASE_ID)
    minimal = minimal.model_copy(update={"time": None, "traceparent": None})

    written = {name for name, _ in encode(minimal, "intake.cases").headers}

    assert set(documented_headers("case.submitted.v1")["required"]) == written - {"content-type"}


def test_trace_context_travels_as_ce_traceparent_not_a_bare_traceparent_header():
    properties = documented_headers("case.submitted.v1")["properties"]

    assert "ce_traceparent" in properties
    assert "traceparent" not in properties


def test_the_checked_in_contract_matches_the_models_and_the_codec(capsys):
    assert main(["--check", str(CONTRACT)]) == 0
