"""``make run``: Kafka, an SMTP server and the four services on their embedded defaults.

Each service keeps one SQLite file under the state folder; mail lands as .eml
files in ``<state>/mail``. Ctrl-C or SIGTERM stops everything cleanly.
Set KAFKA_BOOTSTRAP_SERVERS to use a broker that already runs, and
SEND_<SERVICE>_PORT, SEND_KAFKA_PORT, SEND_SMTP_PORT, SEND_PROMETHEUS_PORT to move ports.
A Prometheus scraping the four services, with the alert rules, starts too when its binary is
installed or Debian's package can be fetched (shared.localinfra.prometheus); SEND_PROMETHEUS=0 skips it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from shared.localinfra.kafka import KafkaBroker, wait_for_kafka
from shared.localinfra.prometheus import PrometheusServer, find_binaries, unavailable_reason
from shared.localinfra.services import SERVICES, ServiceProcess
from shared.localinfra.smtp import SmtpServer

SCENARIO_CLOCK = "local"


def service_env(name: str, prefix: str, *, state: Path, port: int, bootstrap: str, smtp_port: int,
                certificates_url: str = "http://127.0.0.1:8003") -> dict[str, str]:
    env = {
        f"{prefix}DATABASE_URL": f"sqlite+aiosqlite:///{state / 'db' / f'{name}.sqlite'}",
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # Development follows the scenario clock "local": POST /v1/ops/clock moves every service's time forward.
        f"{prefix}SCENARIO_CLOCK": SCENARIO_CLOCK,
    }
    if name == "notifications":
        env.update({f"{prefix}SMTP_HOST": "127.0.0.1", f"{prefix}SMTP_PORT": str(smtp_port),
                    f"{prefix}CERTIFICATES_PUBLIC_BASE_URL": certificates_url})  # the link in certificate emails
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", default=".run", type=Path)
    args = parser.parse_args(argv)
    state: Path = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    broker: KafkaBroker | None = None
    smtp: SmtpServer | None = None
    processes: list[ServiceProcess] = []
    prometheus: PrometheusServer | None = None
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            print(f"Using the Kafka broker at {bootstrap}", flush=True)
            wait_for_kafka(bootstrap)
        else:
            print("Starting Apache Kafka (first run resolves its jars from Maven Central) ...", flush=True)
            broker = KafkaBroker(port=int(os.environ.get("SEND_KAFKA_PORT", "9092")), data_dir=state / "kafka",
                                 keep_data=True).start()
            bootstrap = broker.bootstrap_servers
        smtp = SmtpServer(folder=state / "mail", port=int(os.environ.get("SEND_SMTP_PORT", "8025"))).start()
        ports = {spec.name: int(os.environ.get(f"SEND_{spec.name.upper()}_PORT", spec.default_port)) for spec in SERVICES}
        for spec in SERVICES:
            port = ports[spec.name]
            env = service_env(spec.name, spec.env_prefix, state=state, port=port, bootstrap=bootstrap,
                              smtp_port=smtp.port, certificates_url=f"http://127.0.0.1:{ports['certificates']}")
            processes.append(ServiceProcess(spec, port, env, state / "logs" / f"{spec.name}.log").start(wait=False))
        for process in processes:
            process.wait_until_listening(timeout=120)
        prometheus_note = "not started (SEND_PROMETHEUS=0)"
        if os.environ.get("SEND_PROMETHEUS", "1") != "0":
            binaries = find_binaries()
            if binaries is None:
                prometheus_note = f"not started: {unavailable_reason()}"
            else:
                prometheus = PrometheusServer(binaries, [f"127.0.0.1:{ports[spec.name]}" for spec in SERVICES],
                                              state / "prometheus", interval="5s",
                                              port=int(os.environ.get("SEND_PROMETHEUS_PORT", "9090"))).start()
                # Debian's build has no web UI outside /usr/share/prometheus: the HTTP API always answers.
                prometheus_note = (f"{prometheus.url}   alerts: {prometheus.url}/api/v1/alerts\n"
                                   f"  statutory panels {sys.executable} -m shared.localinfra.prometheus panels "
                                   f"{prometheus.url}")

        print("\nSEND mediation backend is running:", flush=True)
        print(f"  Kafka            {bootstrap}")
        print(f"  SMTP             127.0.0.1:{smtp.port}  (mail folder: {smtp.folder})")
        for process in processes:
            print(f"  {process.spec.name:<16} {process.url}   API docs: {process.url}/docs")
        print(f"  Prometheus       {prometheus_note}")
        print(f"  logs             {state / 'logs'}")
        print(f"  scenario clock   {SCENARIO_CLOCK!r}: GET/POST /v1/ops/clock on any service (ops token dev-only-ops)")
        print("\nTry `make demo` in another terminal. Ctrl-C stops everything.", flush=True)
        while not stopping.wait(1.0):
            for process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{process.spec.name} exited; see {process.log_path}", file=sys.stderr, flush=True)
                    stopping.set()
        return 0
    finally:
        print("\nStopping ...", flush=True)
        if prometheus is not None:
            prometheus.stop()
        for process in reversed(processes):
            process.stop()
        if smtp is not None:
            smtp.stop()
        if broker is not None:
            broker.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
