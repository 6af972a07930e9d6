"""The provisioned Grafana dashboards are well formed: the dashboard JSON shape Grafana loads (a JSON Schema of
the parts these dashboards use, schemaVersion 39), unique panel ids, datasources that resolve, a PromQL expr in
every target, and the provisioning that loads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources"

DATASOURCE_REF = {"type": "object", "required": ["type", "uid"],
                  "properties": {"type": {"type": "string"}, "uid": {"type": "string", "minLength": 1}}}
GRID = {"type": "object", "required": ["h", "w", "x", "y"],
        "properties": {k: {"type": "integer", "minimum": 0} for k in ("h", "w", "x", "y")}}
TARGET = {"type": "object", "required": ["refId", "expr"],
          "properties": {"refId": {"type": "string", "minLength": 1}, "expr": {"type": "string", "minLength": 1},
                         "datasource": DATASOURCE_REF, "legendFormat": {"type": "string"}}}
PANEL = {
    "type": "object", "required": ["type", "title", "id", "gridPos"],
    "properties": {
        "type": {"enum": ["row", "stat", "timeseries", "bargauge", "gauge", "table", "text"]},
        "title": {"type": "string", "minLength": 1}, "id": {"type": "integer", "minimum": 1},
        "gridPos": GRID, "datasource": DATASOURCE_REF, "description": {"type": "string"},
        "targets": {"type": "array", "items": TARGET, "minItems": 1},
        "fieldConfig": {"type": "object", "required": ["defaults"]},
    },
    "if": {"properties": {"type": {"not": {"const": "row"}}}},
    "then": {"required": ["datasource", "targets"]},
}
VARIABLE = {"type": "object", "required": ["name", "type"],
            "properties": {"name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                           "type": {"enum": ["datasource", "query", "custom", "constant", "interval"]}}}
DASHBOARD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "tags": {"type": "array", "items": {"type": "string"}},
        "time": {"type": "object", "required": ["from", "to"]},
        "templating": {"type": "object", "required": ["list"], "properties": {"list": {"type": "array", "items": VARIABLE}}},
        "panels": {"type": "array", "items": PANEL, "minItems": 1},
    },
}


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    every = []
    for panel in dashboard["panels"]:
        every.append(panel)
        every.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return every


def test_both_dashboards_are_provisioned() -> None:
    assert {path.name for path in DASHBOARDS} >= {"send-mediation.json", "send-mediation-statutory.json"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_matches_the_grafana_dashboard_schema(path: Path) -> None:
    errors = [f"{error.instance_path}: {error.message}"
              for error in jsonschema_rs.validator_for(DASHBOARD_SCHEMA).iter_errors(load(path))]
    assert errors == []


def test_the_schema_refuses_a_target_without_a_query() -> None:
    broken = load(DASHBOARDS[0])
    next(p for p in broken["panels"] if p["type"] != "row")["targets"][0].pop("expr")
    assert not jsonschema_rs.validator_for(DASHBOARD_SCHEMA).is_valid(broken)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_panel_ids_are_unique_and_datasources_resolve(path: Path) -> None:
    dashboard = load(path)
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    provisioned = {source["uid"] for file in DATASOURCES.glob("*.yml")
                   for source in yaml.safe_load(file.read_text())["datasources"]}
    variables = {f"${{{v['name']}}}" for v in dashboard["templating"]["list"] if v["type"] == "datasource"}
    for panel in panels(dashboard):
        refs = [panel.get("datasource")] + [target.get("datasource") for target in panel.get("targets", [])]
        for ref in filter(None, refs):
            assert ref["uid"] in provisioned | variables, f"panel {panel['id']}: unknown datasource {ref['uid']}"
    uids = [load(other)["uid"] for other in DASHBOARDS]
    assert len(uids) == len(set(uids)), "two dashboards share a uid"


def test_statutory_dashboard_is_per_la_and_every_query_filters_by_it() -> None:
    dashboard = load(ROOT / "deploy" / "grafana" / "dashboards" / "send-mediation-statutory.json")
    assert "la" in {variable["name"] for variable in dashboard["templating"]["list"]}
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            assert '$la' in target["expr"] or "dead_letters_waiting" in target["expr"], panel["title"]
