"""Every panel of both Grafana dashboards returns a series from a real Prometheus scraping the four services.

One stack, two cases (a mediation booked, a decline with its adviser certificate issued), a few seconds of
scraping at 1 s. Prometheus comes from the PATH or Debian's package cached by shared.localinfra.prometheus;
the test skips, saying why, only when neither is possible.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from support import PORTAL, case_payload, eventually

from shared.localinfra.prometheus import PrometheusServer, find_binaries, grafana_expr, unavailable_reason

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
#: Technical panels about failures a healthy run never has: their counters appear only at the first failure
#: (prometheus_client creates a labelled series when first incremented). They must still be valid PromQL.
ONLY_ON_FAILURE = ("events_dead_lettered_total", "worker_failures_total", 'status=~"5.."')


def dashboard_queries() -> list[tuple[str, str, str]]:
    rows = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                # a 10 s rate window: enough samples at a 1 s scrape interval
                rows.append((path.name, panel["title"], grafana_expr(target["expr"]).replace("[1m]", "[10s]")))
    return rows


def alert_names() -> set[str]:
    groups = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


async def adviser_certificate_emailed(intake: httpx.AsyncClient, case_id: str) -> dict[str, Any] | None:
    case = (await intake.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return case if case["status"] == "certificate_issued" else None


async def meeting_booked(intake: httpx.AsyncClient, case_id: str) -> dict[str, Any] | None:
    case = (await intake.get(f"/v1/cases/{case_id}", headers=PORTAL)).raise_for_status().json()
    return case if case["status"] == "meeting_scheduled" else None


async def test_every_dashboard_query_returns_a_series_from_a_real_prometheus(system, tmp_path: Path) -> None:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(f"prometheus unavailable ({unavailable_reason()})")
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        mediation = (await intake.post("/v1/cases", json=case_payload(), headers=PORTAL)).raise_for_status().json()
        decline = (await intake.post("/v1/cases", json=case_payload(kind="mediation_declined", mediation_issues=[]),
                                     headers=PORTAL)).raise_for_status().json()
        refused = await intake.post("/v1/cases", json={"kind": "mediation"}, headers=PORTAL)  # the 4xx panel
        assert refused.status_code == 422
        await eventually(lambda: meeting_booked(intake, mediation["id"]), what="the mediation booked")
        await eventually(lambda: adviser_certificate_emailed(intake, decline["id"]), timeout=90,
                         what="the adviser certificate issued")
    la = mediation["la_code"]
    targets = [process.url.removeprefix("http://") for process in system.processes.values()]
    prometheus = PrometheusServer(binaries, targets, tmp_path / "prometheus").start()
    try:
        queries = dashboard_queries()
        assert len(queries) > 30  # both dashboards
        deadline = time.monotonic() + 60
        while True:
            empty = [(name, title, expr) for name, title, expr in queries
                     if not prometheus.query(expr) and not any(marker in expr for marker in ONLY_ON_FAILURE)]
            if not empty or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        assert empty == [], "dashboard queries without a series"

        # The statutory numbers are the two cases' (the suite's other tests may add more, of other LAs or this).
        def value(expr: str) -> float:
            [row] = prometheus.query(expr)
            return float(row["value"][1])

        assert value(f'sum(max by (la, stage) (cases_open{{la="{la}", stage="meeting_scheduled"}}))') >= 1
        assert value(f'sum(max by (la, kind, timeliness) (certificates_issued_on_record{{la="{la}", kind="adviser", '
                     f'timeliness="on_time"}}))') >= 1
        assert {row["metric"]["la"] for row in prometheus.query("mediations_held")} >= {la}
        assert {row["metric"]["la"] for row in prometheus.query("deadline_messages_failed")} >= {la}

        rules = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=30).json()["data"]["groups"]
        loaded = {rule["name"] for group in rules for rule in group["rules"] if rule["type"] == "alerting"}
        assert loaded == alert_names()
        assert all(rule["health"] == "ok" for group in rules for rule in group["rules"]), rules
    finally:
        prometheus.stop()
