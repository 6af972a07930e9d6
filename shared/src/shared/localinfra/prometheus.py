"""A real Prometheus (and its promtool) for tests and ``make run``, with no manual install.

The binaries come from, in order: ``$PROMETHEUS_BIN_DIR``; ``prometheus``/``promtool`` on the PATH; a cached
extraction of Debian's ``prometheus`` package under ``~/.cache/send-mediation/prometheus`` (fetched with
``apt-get download`` and unpacked with ``dpkg-deb -x``: no root needed). Both are Go binaries that need only libc.
``find_binaries()`` answers None, with the reason in ``unavailable_reason()``, when none of these works.

``python -m shared.localinfra.prometheus`` fetches them (CI can run it first) and prints where they are.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from shared.localinfra.ports import free_port, terminate

ROOT = Path(__file__).resolve().parents[4]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
_reason = "not looked for yet"


@dataclass(frozen=True)
class PrometheusBinaries:
    prometheus: Path
    promtool: Path


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "send-mediation" / "prometheus"


def unavailable_reason() -> str:
    return _reason


def _pair(folder: Path) -> PrometheusBinaries | None:
    prometheus, promtool = folder / "prometheus", folder / "promtool"
    if os.access(prometheus, os.X_OK) and os.access(promtool, os.X_OK):
        return PrometheusBinaries(prometheus, promtool)
    return None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One download at a time, across the processes of a parallel test run."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _download(folder: Path) -> PrometheusBinaries | None:
    global _reason
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        _reason = "prometheus/promtool are not on the PATH and apt-get/dpkg-deb are missing to fetch Debian's package"
        return None
    with _locked(folder), tempfile.TemporaryDirectory(dir=folder) as work:
        found = _pair(folder / "usr" / "bin")
        if found is not None:  # another process fetched it while this one waited
            return found
        fetched = subprocess.run(["apt-get", "download", "prometheus"], cwd=work, capture_output=True, text=True,
                                 timeout=600, check=False)
        debs = sorted(Path(work).glob("prometheus_*.deb"))
        if fetched.returncode != 0 or not debs:
            _reason = f"apt-get download prometheus failed: {(fetched.stderr or fetched.stdout).strip()[-300:]}"
            return None
        unpacked = Path(work) / "root"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True, timeout=300)
        for name in ("prometheus", "promtool"):
            (folder / "usr" / "bin").mkdir(parents=True, exist_ok=True)
            os.replace(unpacked / "usr" / "bin" / name, folder / "usr" / "bin" / name)
        (folder / "VERSION").write_text(debs[0].name + "\n")
    return _pair(folder / "usr" / "bin")


def find_binaries(*, download: bool = True) -> PrometheusBinaries | None:
    global _reason
    override = os.environ.get("PROMETHEUS_BIN_DIR")
    if override:
        found = _pair(Path(override))
        _reason = f"PROMETHEUS_BIN_DIR={override} has no executable prometheus and promtool"
        return found
    on_path = shutil.which("prometheus"), shutil.which("promtool")
    if on_path[0] and on_path[1]:
        return PrometheusBinaries(Path(on_path[0]), Path(on_path[1]))
    folder = cache_dir()
    found = _pair(folder / "usr" / "bin")
    if found is not None or not download:
        _reason = f"no prometheus/promtool on the PATH nor in {folder}"
        return found
    try:
        return _download(folder)
    except (OSError, subprocess.SubprocessError) as exc:
        _reason = f"fetching Debian's prometheus package failed: {exc}"
        return None


def scrape_config(targets: Sequence[str], *, interval: str, rules: Sequence[Path]) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(path) for path in rules],
        "scrape_configs": [{"job_name": "send-mediation", "metrics_path": "/metrics",
                            "static_configs": [{"targets": list(targets)}]}],
    }


@dataclass
class PrometheusServer:
    """A Prometheus process on loopback scraping ``targets`` (host:port) with the project's alert rules."""

    binaries: PrometheusBinaries
    targets: Sequence[str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    interval: str = "1s"
    rules: Sequence[Path] = (ALERTS,)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrometheusServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(scrape_config(self.targets, interval=self.interval, rules=self.rules)))
        log = open(self.data_dir / "prometheus.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [str(self.binaries.prometheus), f"--config.file={config}", f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=2d"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}; see {self.data_dir}/prometheus.log")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as ready:
                if ready.status == 200:
                    return self
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"prometheus was not ready within {timeout} s")
            time.sleep(0.2)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result (vector or scalar rows), raising on a PromQL error."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = cast(dict[str, Any], json.load(response))
        except urllib.error.HTTPError as error:  # 400/422: a bad expression, with the reason in the body
            body = cast(dict[str, Any], json.load(error))
        if body.get("status") != "success":
            raise ValueError(f"{expr!r}: {body.get('errorType')}: {body.get('error')}")
        data = body["data"]
        return list(data["result"]) if data["resultType"] in ("vector", "matrix") else [data["result"]]

    def stop(self, timeout: float = 20.0) -> None:
        terminate(self.process, timeout=timeout)
        self.process = None


DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "send-mediation-statutory.json"
#: Grafana's variables as the dashboards use them, for a query Prometheus itself can run (every LA).
VARIABLES = {"$__rate_interval": "1m", "$la": ".*", "$service": ".*"}


def grafana_expr(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def render_panels(url: str, dashboard: Path = DASHBOARD) -> str:
    """Each panel of a dashboard as a Markdown table of what Prometheus at ``url`` answers now (every LA)."""
    server = PrometheusServer(PrometheusBinaries(Path("prometheus"), Path("promtool")), (), Path("."))
    server.port = int(urllib.parse.urlsplit(url).port or 9090)
    out: list[str] = []
    for panel in json.loads(dashboard.read_text())["panels"]:
        if panel["type"] == "row":
            out.extend([f"\n#### {panel['title']}\n", "| Panel | Series | Value |", "|---|---|---|"])
            continue
        rows = []
        for target in panel["targets"]:
            for row in server.query(grafana_expr(target["expr"])):
                labels = {k: v for k, v in row.get("metric", {}).items() if k != "__name__"}
                legend = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"
                number = float(row["value"][1])
                shown = f"{number:.0%}" if panel["fieldConfig"]["defaults"].get("unit") == "percentunit" \
                    else f"{number:g}"
                if math.isnan(number):  # a share of nothing yet
                    shown = "- (none issued)"
                rows.append(f"| {panel['title']} | {legend} | {shown} |")
        out.extend(rows or [f"| {panel['title']} | (no series) | |"])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["panels"]:  # python -m shared.localinfra.prometheus panels [http://127.0.0.1:9090]
        print(render_panels(args[1] if len(args) > 1 else "http://127.0.0.1:9090"))
        return 0
    binaries = find_binaries()
    if binaries is None:
        print(f"Prometheus unavailable: {unavailable_reason()}", file=sys.stderr)
        return 1
    print(f"prometheus {binaries.prometheus}\npromtool   {binaries.promtool}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
