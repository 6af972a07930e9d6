"""CloudEvents Kafka protocol binding, binary content mode.

Context attributes travel as ``ce_*`` headers, ``data`` is the message value
(JSON), and the key is the subject (the case id) so that a case's events stay
in order on one partition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.events.envelope import Envelope, EventData
from shared.events.registry import UnknownEventType, model_for

Headers = list[tuple[str, bytes]]

CONTENT_TYPE_HEADER = "content-type"
"""The binding maps ``datacontenttype`` to the Kafka ``content-type`` header, not to ``ce_datacontenttype``."""


@dataclass(frozen=True)
class Attribute:
    """A CloudEvents context attribute as this codec writes and reads it.

    The list below is the one statement of the headers: encode() and decode()
    use it, and the AsyncAPI document's message headers are generated from it.
    """

    name: str
    required: bool
    schema: dict[str, Any]

    @property
    def header(self) -> str:
        return f"ce_{self.name}"


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("id", True, {"type": "string", "description": "Unique event id; consumers de-duplicate on it"}),
    Attribute("source", True, {"type": "string", "examples": ["/send-mediation/intake"]}),
    Attribute("specversion", True, {"type": "string", "const": "1.0"}),
    Attribute("type", True, {"type": "string"}),
    Attribute("time", False, {"type": "string", "format": "date-time"}),
    Attribute("subject", True, {"type": "string", "description": "The case id"}),
    Attribute("traceparent", False, {
        "type": "string",
        "description": "W3C trace context of the span that recorded the event (CloudEvents distributed tracing extension)",
    }),
)
_NAMES = tuple(attribute.name for attribute in ATTRIBUTES)
_REQUIRED = tuple(attribute.name for attribute in ATTRIBUTES if attribute.required)


class PoisonMessage(ValueError):
    """A record that can never be decoded; it goes straight to the dead-letter topic."""


@dataclass(frozen=True)
class KafkaMessage:
    topic: str
    key: bytes
    value: bytes
    headers: Headers


def encode(envelope: Envelope[Any], topic: str) -> KafkaMessage:
    headers: Headers = [(CONTENT_TYPE_HEADER, envelope.datacontenttype.encode())]
    for name in _NAMES:
        value = getattr(envelope, name)
        if value is None:
            continue
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        headers.append((f"ce_{name}", text.encode()))
    return KafkaMessage(
        topic=topic,
        key=envelope.subject.encode(),
        value=envelope.data.model_dump_json().encode(),
        headers=headers,
    )


def header_map(headers: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers or ():
        try:
            result[name] = value.decode() if isinstance(value, bytes) else str(value)
        except UnicodeDecodeError as exc:
            raise PoisonMessage(f"header {name} is not UTF-8") from exc
    return result


def event_type(headers: Any) -> str | None:
    return header_map(headers).get("ce_type")


def decode(headers: Any, value: bytes | None) -> Envelope[Any]:
    """Decode a binary-mode record into a typed envelope, or raise PoisonMessage."""
    attrs = header_map(headers)
    missing = [name for name in _REQUIRED if f"ce_{name}" not in attrs]
    if missing:
        raise PoisonMessage(f"missing CloudEvents attributes: {', '.join(missing)}")
    if attrs["ce_specversion"] != "1.0":
        raise PoisonMessage(f"unsupported specversion {attrs['ce_specversion']!r}")
    try:
        model: type[EventData] = model_for(attrs["ce_type"])
    except UnknownEventType as exc:
        raise PoisonMessage(f"unknown event type {attrs['ce_type']!r}") from exc
    try:
        data = json.loads(value or b"")
        return Envelope.of(model)(
            data=data,
            datacontenttype=attrs.get(CONTENT_TYPE_HEADER, "application/json"),
            **{name: attrs[f"ce_{name}"] for name in _NAMES if f"ce_{name}" in attrs},
        )
    except json.JSONDecodeError as exc:
        raise PoisonMessage(f"value is not JSON: {exc.msg} at position {exc.pos}") from exc
    except ValidationError as exc:
        raise PoisonMessage(describe_validation_error(exc)) from exc


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and reasons only: the input values may hold personal data."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['type']}" for error in exc.errors()
    )
