"""The closing table of ``make bench``: each figure beside its baseline from the same run, the ratio and the
target it is judged by (issue 12). Numbers only: nothing here passes or fails.

A target whose figure this run did not measure is printed with ``-`` (not run, or not measured yet).
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.common import write_result


def _row(rows: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    return next((row for row in rows or [] if row["name"] == name), None)


def _p(row: dict[str, Any] | None, q: str) -> float | None:
    return None if row is None else row["latency_ms"].get(q)


def _rate(row: dict[str, Any] | None) -> float | None:
    return None if row is None else row["throughput_per_s"]


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base != base or value != value or base == 0:
        return None
    return round(value / base, 2)


def lines(intake: list[dict[str, Any]] | None, pipeline: list[dict[str, Any]] | None,
          resources: dict[str, dict[str, float]] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(what: str, value: float | None, unit: str, baseline: float | None, target: str) -> None:
        out.append({"what": what, "value": value, "unit": unit, "baseline": baseline,
                    "ratio": _ratio(value, baseline), "target": target})

    bare, posted = _row(intake, "baseline: bare FastAPI insert"), _row(intake, "intake: POST /v1/cases")
    add("intake POST /v1/cases throughput", _rate(posted), "req/s", _rate(bare), ">= 0.7x bare insert")
    add("intake POST /v1/cases p99", _p(posted, "p99"), "ms", _p(bare, "p99"), "<= 2x bare insert")
    raw = _row(pipeline, "baseline: Kafka produce -> consume")
    hop = _row(pipeline, "one Kafka hop: intake committed (answered) -> scheduling handler began")
    add("one Kafka hop p50 (committed -> handler)", _p(hop, "p50"), "ms", _p(raw, "p50"), "<= 3x raw round trip")
    hops = [row for row in pipeline or [] if row["name"].startswith("hop: ") and row["count"]]
    if hops:
        slowest = max(hops, key=lambda row: row["latency_ms"]["p50"])
        add(f"slowest hop p50: {slowest['name'][5:]}", _p(slowest, "p50"), "ms", None, "(names the slow part)")
    booked = _row(pipeline, "submitted -> booked in scheduling")
    add("submitted -> booked p50", _p(booked, "p50"), "ms", None, "-")
    catch_up = _row(pipeline, "catch-up: backlog booked after restart")
    search = _row(pipeline, "baseline: one booking search alone")
    search_rate = None if search is None or not search["latency_ms"]["mean"] else 1000 / search["latency_ms"]["mean"]
    add("backlog drain (booking)", _rate(catch_up), "cases/s", search_rate and round(search_rate, 2),
        ">= 0.5x one booking search alone")
    add("decline path p50 / p99 (POST -> certificate emailed)", None, "ms", None, "<= 300 ms / <= 1 s (not measured yet)")
    for service, values in (resources or {}).items():
        add(f"idle CPU: {service}", values["idle_cpu_percent"], "% of a core", None, "< 0.5 %")
    for service, values in (resources or {}).items():
        add(f"RSS at rest: {service}", values["rss_mib_at_rest"], "MiB", None, "flat over a 10,000-case run")
    if posted and posted.get("rss_mib_peak"):
        add("RSS under load: intake (intake benchmark)", posted["rss_mib_peak"], "MiB", None, "flat")
    loaded = _row(pipeline, "intake: POST /v1/cases")
    for service, peak in ((loaded or {}).get("rss_mib_peak") or {}).items():
        add(f"RSS under load: {service} (end to end)", peak, "MiB", None, "flat")
    return out


def _fmt(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def print_summary(intake: list[dict[str, Any]] | None, pipeline: list[dict[str, Any]] | None,
                  resources: dict[str, dict[str, float]] | None) -> None:
    rows = lines(intake, pipeline, resources)
    write_result("summary", params={"load_1m_at_end": round(os.getloadavg()[0], 2)}, rows=rows)
    table = [["", "value", "unit", "baseline", "ratio", "target"]]
    table += [[r["what"], _fmt(r["value"]), r["unit"], _fmt(r["baseline"]),
               "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["target"]] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    print(f"\nSummary: figure, baseline from the same run, ratio, target (load average now {os.getloadavg()[0]:.2f})")
    for number, line in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) if i in (0, 2, 5) else cell.rjust(widths[i]) for i, cell in enumerate(line)))
        if number == 0:
            print("  ".join("-" * w for w in widths))
