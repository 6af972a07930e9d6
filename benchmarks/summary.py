"""The closing table of ``make bench``: each figure beside its baseline from the same run, the ratio and the
target it is judged by (issue 12). Numbers only: nothing here passes or fails.

A target whose figure this run did not measure is printed with ``-`` (that benchmark was not run, or a size
too small for it: drain linearity needs two ``BENCH_DRAIN_SIZES``).
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


def _floor(*parts: float | None) -> float | None:
    """The unavoidable work of a path, one after the other: None unless every part was measured."""
    return None if any(p is None or p != p for p in parts) else round(sum(p for p in parts if p is not None), 1)


def _paths_lines(paths: dict[str, Any] | None, add: Any) -> None:
    rows = (paths or {}).get("rows") or []
    raw = _p(_row(rows, "baseline: Kafka produce -> consume"), "p50")
    sign = _p(_row(rows, "baseline: PDF render + sign alone"), "p50")
    smtp = _p(_row(rows, "baseline: SMTP handoff alone (certificate-sized email)"), "p50")
    search_row = _row(rows, "baseline: one booking search alone") or next(
        (r for r in rows if r["name"].startswith("baseline: one booking search alone")), None)
    search = _p(search_row, "p50")
    decline = _row(rows, "decline path: POST -> certificate email accepted by SMTP")
    rate = (decline or {}).get("arrival_rate_per_s")
    floor = _floor(sign, smtp, raw, raw)
    at = f" at {rate:g}/s" if rate else ""
    add(f"decline path p50{at} (POST -> certificate email accepted by SMTP)", _p(decline, "p50"), "ms", floor,
        "<= 300 ms (baseline: render+sign + SMTP + 2 Kafka round trips)")
    add(f"decline path p99{at}", _p(decline, "p99"), "ms", floor, "<= 1,000 ms")
    hop = _row(rows, "one Kafka hop (decline): intake committed -> certificates handler began")
    add("one Kafka hop p50 (decline: committed -> certificates handler)", _p(hop, "p50"), "ms", raw,
        "<= 3x raw round trip")
    for kind, values in ((paths or {}).get("cpu") or {}).items():
        per_case = round(sum(values.values()), 1)
        add(f"{kind} path: CPU per case, every process (largest: {max(values, key=values.__getitem__)})", per_case,
            "ms", None, "(why the latency is what it is)")
        if rate:
            add(f"{kind} path: cores kept busy{at} (CPU per case x rate / cores here)",
                round(per_case * rate / 1000, 2), "cores", float(os.cpu_count() or 1),
                "< 1x: below ~0.7x the queues stay short")
    mediation = _row(rows, "mediation path: POST -> invitation email accepted by SMTP")
    floor = _floor(search, smtp, raw, raw)
    add(f"mediation path p50{at} (POST -> invitation accepted by SMTP)", _p(mediation, "p50"), "ms", floor,
        "- (baseline: booking search + SMTP + 2 Kafka round trips)")
    add(f"mediation path p99{at}", _p(mediation, "p99"), "ms", floor, "-")
    hop = _row(rows, "mediation one Kafka hop: intake committed (answered) -> scheduling handler began")
    add("one Kafka hop p50 (mediation: committed -> scheduling handler)", _p(hop, "p50"), "ms", raw,
        "<= 3x raw round trip")
    for prefix in ("decline hop: ", "mediation hop: "):
        hops = [r for r in rows if r["name"].startswith(prefix) and r["count"] and "all of the above" not in r["name"]]
        if hops:
            slowest = max(hops, key=lambda r: r["latency_ms"]["p50"])
            add(f"slowest {prefix[:-2]} p50: {slowest['name'][len(prefix):]}", _p(slowest, "p50"), "ms", None,
                "(names the slow part)")
    drains = [r for r in rows if r.get("drain") and "path" in r["drain"]]
    for row in drains:
        d = row["drain"]
        add(f"backlog drain {d['size']:,}: {d['path']}, {d['stage']} ({d.get('unit', 'items')}/s)", d["rate_per_s"],
            "/s", d["baseline_rate_per_s"], ">= 0.5x the unavoidable per-item work alone")
    for path, stage in sorted({(r["drain"]["path"], r["drain"]["stage"]) for r in drains}):
        mine = sorted((r["drain"] for r in drains if (r["drain"]["path"], r["drain"]["stage"]) == (path, stage)),
                      key=lambda d: d["size"])
        if len(mine) > 1:
            add(f"drain linearity: {path}, {stage} (rate at {mine[-1]['size']:,} / rate at {mine[0]['size']:,})",
                mine[-1]["rate_per_s"], "/s", mine[0]["rate_per_s"], "~1.0x (linear from 1,000 to 10,000)")
            first, last = mine[0], mine[-1]
            if first["baseline_rate_per_s"] and last["baseline_rate_per_s"]:
                # The per-item work alone, measured before each drain, is not constant for every stage: a booking
                # search looks at the whole pool, which the benchmark grows with the backlog.
                add(f"drain linearity vs its work alone: {path}, {stage} (x of it at {last['size']:,} / at {first['size']:,})",
                    round(last["rate_per_s"] / last["baseline_rate_per_s"], 3), "x",
                    round(first["rate_per_s"] / first["baseline_rate_per_s"], 3), "~1.0x (the drain keeps pace with its work)")
    for service, values in ((paths or {}).get("memory") or {}).items():
        add(f"RSS over the run: {service} (end vs start; peak {values['peak_mib']:.0f} MiB)", values["end_mib"], "MiB",
            values["start_mib"], "flat over a 10,000-case run")
        add(f"RSS slope: {service} (second half, {values['minutes']:.1f} min)", values["slope_mib_per_min"],
            "MiB/min", None, "~0 (flat)")


def lines(intake: list[dict[str, Any]] | None, pipeline: list[dict[str, Any]] | None,
          resources: dict[str, dict[str, float]] | None, paths: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(what: str, value: float | None, unit: str, baseline: float | None, target: str) -> None:
        out.append({"what": what, "value": value, "unit": unit, "baseline": baseline,
                    "ratio": _ratio(value, baseline), "target": target})

    bare, posted = _row(intake, "baseline: bare FastAPI insert"), _row(intake, "intake: POST /v1/cases")
    add("intake POST /v1/cases throughput", _rate(posted), "req/s", _rate(bare), ">= 0.7x bare insert")
    add("intake POST /v1/cases p99", _p(posted, "p99"), "ms", _p(bare, "p99"), "<= 2x bare insert")
    add("intake server CPU per request (outbox relay included)", (posted or {}).get("server_cpu_ms_per_request"),
        "ms", (bare or {}).get("server_cpu_ms_per_request"), "(why the throughput ratio is what it is)")
    raw = _row(pipeline, "baseline: Kafka produce -> consume")
    hop = _row(pipeline, "one Kafka hop: intake committed (answered) -> scheduling handler began")
    # A closed loop submits faster than bookings are made, so this hop includes the queue behind them; the
    # target is read off the fixed-rate rows of the paths benchmark (below), where nothing queues.
    add("one Kafka hop p50, closed loop (committed -> handler; includes the queue behind bookings)", _p(hop, "p50"),
        "ms", _p(raw, "p50"), "- (see the 10/s rows)")
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
    _paths_lines(paths, add)
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
                  resources: dict[str, dict[str, float]] | None, paths: dict[str, Any] | None = None) -> None:
    rows = lines(intake, pipeline, resources, paths)
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
