"""pytest-benchmark for the pure rules: prints the common table and writes ``micro-<run id>.json`` beside the
other benchmarks' results (pytest-benchmark's own JSON is written too, for ``pytest-benchmark compare``).

Latency is per call: pytest-benchmark times rounds of calibrated iterations, so each sample is one round's
time divided by its iterations, and ``count`` is the number of rounds.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from benchmarks.common import report, summarise


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter: Any) -> Generator[None, None, None]:
    yield
    session: Any = getattr(terminalreporter.config, "_benchmarksession", None)
    if session is None or session.disabled:
        return
    benchmarks = [bench for bench in session.benchmarks if bench and not bench.has_error]
    if not benchmarks:
        return
    rows = []
    for bench in sorted(benchmarks, key=lambda b: b.fullname):
        data = list(bench.stats.data)
        rows.append(summarise(bench.name.removeprefix("test_"), data, duration_s=sum(data),
                              calls=len(data) * bench.iterations))
    report("micro", "Pure rules (per call)", params={"max_time_s": float(session.options["max_time"]),
                                                     "min_rounds": session.options.get("min_rounds")}, rows=rows)
