"""``make bench``: the rule micro-benchmarks, then the intake API and the end-to-end pipeline on one Kafka
broker and one PostgreSQL cluster started for the run (and stopped at the end, whatever happens).

``BENCH_ONLY=micro,idle,intake,pipeline,paths`` picks some; the sizes are in each module's docstring and docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from benchmarks import intake_api, paths, pipeline, resources, summary
from benchmarks.common import REPO_ROOT, Infra, install_signal_handlers, results_dir, run_id

ALL = ("micro", "idle", "intake", "pipeline", "paths")


def run_micro() -> int:
    """pytest-benchmark in its own process, before the broker starts, so the rules are timed on a quiet machine."""
    return subprocess.call([
        sys.executable, "-m", "pytest", "benchmarks/micro", "-q", "-o", "python_files=bench_*.py", "-p", "no:cacheprovider",
        f"--benchmark-max-time={os.environ.get('BENCH_MICRO_MAX_TIME', '0.5')}", "--benchmark-sort=name",
        "--benchmark-columns=median,ops,rounds", f"--benchmark-json={results_dir() / f'micro-pytest-benchmark-{run_id()}.json'}",
    ], cwd=REPO_ROOT)


def main() -> int:
    install_signal_handlers()
    chosen = [name.strip() for name in os.environ.get("BENCH_ONLY", ",".join(ALL)).split(",") if name.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        print(f"BENCH_ONLY: unknown {sorted(unknown)}; choose from {', '.join(ALL)}", file=sys.stderr)
        return 2
    begin = time.monotonic()
    failed: list[str] = []
    results: dict[str, Any] = {}
    try:
        if "micro" in chosen and run_micro() != 0:
            failed.append("micro")
        if {"idle", "intake", "pipeline", "paths"} & set(chosen):
            with Infra() as infra:
                for name, module in (("idle", resources), ("intake", intake_api), ("pipeline", pipeline), ("paths", paths)):
                    if name not in chosen:
                        continue
                    try:
                        results[name] = module.run(infra)
                    except Exception as exc:  # report it and go on to the next benchmark
                        print(f"\nbenchmark {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                        failed.append(name)
            summary.print_summary(results.get("intake"), results.get("pipeline"), results.get("idle"),
                                  results.get("paths"))
    except KeyboardInterrupt:
        print("\nInterrupted; everything the benchmark started has been stopped.", file=sys.stderr)
        return 130
    print(f"\nmake bench: {time.monotonic() - begin:.0f} s; results in {results_dir()}"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
