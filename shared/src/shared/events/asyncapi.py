"""The AsyncAPI 3.0 document of every event, generated from the pydantic models.

``python -m shared.events.asyncapi --write contracts/asyncapi.yaml`` regenerates it;
``--check`` fails (CI) when the checked-in document is out of date.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.events.envelope import EventData
from shared.events.registry import ALL_EVENTS, TOPICS
from shared.kafka import codec

_CONTENT_TYPE = {"type": "string", "const": "application/json"}
_REQUIRED_HEADERS = [attribute.header for attribute in codec.ATTRIBUTES if attribute.required]


def cloudevents_headers(event_type: str) -> dict[str, Any]:
    """The message headers of one event type, derived from the codec that writes them.

    Only ``ce_type`` differs between messages; the other schemas are shared
    objects, which the YAML renders once and refers to by alias.
    """
    properties: dict[str, Any] = {attribute.header: attribute.schema for attribute in codec.ATTRIBUTES}
    properties["ce_type"] = {"type": "string", "const": event_type}
    properties[codec.CONTENT_TYPE_HEADER] = _CONTENT_TYPE
    return {
        "type": "object",
        "description": "CloudEvents 1.0 Kafka protocol binding, binary content mode. The message key is the case id.",
        "required": _REQUIRED_HEADERS,
        "properties": properties,
    }


def _name(model: type[EventData]) -> str:
    return model.__name__


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in ALL_EVENTS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[_name(model)] = schema
        messages[_name(model)] = {
            "name": model.type,
            "title": model.type,
            "summary": str(inspect.getdoc(model) or "").split("\n\n")[0],
            "description": inspect.getdoc(model) or "",
            "contentType": "application/json",
            "headers": cloudevents_headers(model.type),
            "payload": {"$ref": f"#/components/schemas/{_name(model)}"},
        }
    channels = {
        topic.replace(".", "_"): {
            "address": topic,
            "description": f"Owned by {topic.split('.')[0]}; keyed by case id.",
            "messages": {_name(m): {"$ref": f"#/components/messages/{_name(m)}"} for m in ALL_EVENTS
                         if m.topic == topic},
        }
        for topic in TOPICS
    }
    operations = {
        f"publish_{channel}": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{str(spec['address']).split('.')[0]} publishes through its transactional outbox",
        }
        for channel, spec in channels.items()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SEND mediation events",
            "version": "1.0.0",
            "description": "Every event the SEND mediation services exchange over Kafka. Types are versioned; "
                           "readers ignore fields they do not know. Dead letters go to `<service>.dlt`.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args(argv)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(render())
        return 0
    if not args.check.exists() or args.check.read_text() != render():
        print(f"{args.check} is out of date: run `make asyncapi`", file=sys.stderr)
        return 1
    print(f"{args.check} matches the event models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
