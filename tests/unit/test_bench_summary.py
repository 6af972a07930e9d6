"""The benchmark's closing table: each figure beside its baseline and target (numbers only, nothing timed here)."""

from __future__ import annotations

import os
from typing import Any

from benchmarks import summary
from benchmarks.common import summarise
from benchmarks.resources import _slope, cpu_by_part


def _row(name: str, ms: list[float], **extra: Any) -> dict[str, Any]:
    return summarise(name, [value / 1000 for value in ms], duration_s=1.0, **extra)


def _drain(path: str, stage: str, size: int, rate: float, baseline: float) -> dict[str, Any]:
    row = _row(f"drain {size}: {path} {stage}", [1.0])
    row["drain"] = {"path": path, "stage": stage, "size": size, "rate_per_s": rate, "baseline_rate_per_s": baseline,
                    "unit": "items"}
    return row


def test_the_paths_rows_print_beside_their_baselines_and_targets() -> None:
    rows = [
        _row("baseline: Kafka produce -> consume", [10.0]),
        _row("baseline: PDF render + sign alone", [100.0]),
        _row("baseline: SMTP handoff alone (certificate-sized email)", [5.0]),
        _row("baseline: one booking search alone (before drain 1000)", [20.0]),
        _row("decline path: POST -> certificate email accepted by SMTP", [250.0, 250.0, 900.0], arrival_rate_per_s=10.0),
        _row("mediation path: POST -> invitation email accepted by SMTP", [300.0]),
        _row("one Kafka hop (decline): intake committed -> certificates handler began", [30.0]),
        _row("decline hop: issuer began -> document_ready recorded (PDF render + sign)", [120.0]),
        _drain("decline", "certificates", 1000, 8.0, 10.0),
        _drain("decline", "certificates", 10000, 6.0, 10.0),
    ]
    memory = {"intake": {"start_mib": 100.0, "peak_mib": 130.0, "end_mib": 110.0, "slope_mib_per_min": 0.0,
                         "minutes": 30.0}}
    lines = {line["what"]: line for line in summary.lines(None, None, None, {"rows": rows, "memory": memory})}

    decline = lines["decline path p50 at 10/s (POST -> certificate email accepted by SMTP)"]
    assert (decline["value"], decline["baseline"]) == (250.0, 125.0)  # render+sign + SMTP + two round trips
    assert decline["ratio"] == 2.0 and decline["target"].startswith("<= 300 ms")
    assert lines["one Kafka hop p50 (decline: committed -> certificates handler)"]["ratio"] == 3.0
    assert lines["mediation path p50 at 10/s (POST -> invitation accepted by SMTP)"]["baseline"] == 45.0
    assert lines["backlog drain 1,000: decline, certificates (items/s)"]["ratio"] == 0.8
    assert lines["drain linearity: decline, certificates (rate at 10,000 / rate at 1,000)"]["ratio"] == 0.75
    assert lines["slowest decline hop p50: issuer began -> document_ready recorded (PDF render + sign)"]["value"] == 120.0
    assert lines["RSS over the run: intake (end vs start; peak 130 MiB)"]["ratio"] == 1.1


def test_a_drain_whose_work_alone_slows_with_its_size_is_also_judged_against_that_work() -> None:
    rows = [_drain("mediation", "scheduling", 1000, 50.0, 100.0), _drain("mediation", "scheduling", 10000, 15.0, 25.0)]
    lines = {line["what"]: line for line in summary.lines(None, None, None, {"rows": rows})}

    assert lines["drain linearity: mediation, scheduling (rate at 10,000 / rate at 1,000)"]["ratio"] == 0.3
    kept = lines["drain linearity vs its work alone: mediation, scheduling (x of it at 10,000 / at 1,000)"]
    assert (kept["value"], kept["baseline"], kept["ratio"]) == (0.6, 0.5, 1.2)  # 0.6x of the search, against 0.5x


def test_the_cpu_a_case_costs_is_read_as_the_cores_the_path_keeps_busy_at_its_rate() -> None:
    rows = [_row("decline path: POST -> certificate email accepted by SMTP", [250.0], arrival_rate_per_s=10.0)]
    cpu = {"decline": {"intake": 30.0, "notifications": 70.0, "kafka": 40.0, "postgresql": 20.0, "certificates": 40.0}}
    lines = {line["what"]: line for line in summary.lines(None, None, None, {"rows": rows, "cpu": cpu})}

    assert lines["decline path: CPU per case, every process (largest: notifications)"]["value"] == 200.0
    busy = lines["decline path: cores kept busy at 10/s (CPU per case x rate / cores here)"]
    assert busy["value"] == 2.0  # 200 ms a case, 10 cases a second: two cores' worth of work


def test_a_process_tree_counts_its_children_cpu() -> None:
    used = cpu_by_part({"me": os.getpid()})
    assert used["me"] >= used["benchmark"] > 0  # this process alone, then with any children it has


def test_targets_not_measured_print_no_figure() -> None:
    lines = summary.lines(None, None, None, None)
    assert all(line["value"] is None for line in lines)
    assert any(line["what"].startswith("intake POST") for line in lines)


def test_the_memory_slope_is_mib_per_minute() -> None:
    assert _slope([(0.0, 100.0), (60.0, 101.0), (120.0, 102.0)]) == 1.0
    assert _slope([(0.0, 100.0), (60.0, 100.0), (120.0, 100.0)]) == 0.0
    assert _slope([(0.0, 100.0)]) is None
