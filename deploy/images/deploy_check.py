"""``make deploy-check``: the four service images carry a case end to end.

Starts, with docker or podman on the host network: the local Kafka, PostgreSQL
15 and SMTP-sink images (deploy/images/build.sh), then the four service images
against them, each with its own PostgreSQL database and login role
(deploy/postgres/init-databases.sql). Then drives deploy/local/demo.py through
the containers' HTTP ports and checks that both cases have a signed
certificate PDF that verifies, and that the emails reached the SMTP sink.
Prints PASSED or FAILED, and removes every container it started, whatever
happened. Container logs are kept under --state-dir (default .run/deploy-check).

Images: SEND_IMAGE_PREFIX (send-mediation), IMAGE_TAG (dev), SEND_KAFKA_IMAGE,
SEND_POSTGRES_IMAGE, SEND_SMTP_IMAGE (the local images build.sh makes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "shared" / "src"))

from shared.localinfra.kafka import wait_for_kafka  # noqa: E402
from shared.localinfra.ports import free_port, wait_for_port  # noqa: E402

SERVICES = ("intake", "scheduling", "certificates", "notifications")


def engine_command() -> list[str] | None:
    """docker when its daemon answers, else podman (with deploy/images/podman-containers.conf), else None."""
    if os.environ.get("CONTAINER_ENGINE"):
        return [os.environ["CONTAINER_ENGINE"]]
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        return ["docker"]
    if shutil.which("podman"):
        os.environ.setdefault("CONTAINERS_CONF", str(Path(__file__).resolve().parent / "podman-containers.conf"))
        return ["podman"]
    return None


class Containers:
    """The containers this run started, removed in reverse order by ``remove_all``."""

    def __init__(self, engine: list[str], run_id: str, logs: Path) -> None:
        self.engine = engine
        self.run_id = run_id
        self.logs = logs
        self.names: list[str] = []

    def run(self, name: str, image: str, env: dict[str, str], volumes: tuple[str, ...] = ()) -> str:
        full = f"send-deploy-check-{self.run_id}-{name}"
        command = [*self.engine, "run", "-d", "--name", full, "--network", "host"]
        for key, value in env.items():
            command += ["-e", f"{key}={value}"]
        for volume in volumes:
            command += ["-v", volume]
        subprocess.run([*command, image], check=True, stdout=subprocess.DEVNULL)
        self.names.append(full)
        return full

    def running(self, name: str) -> bool:
        out = subprocess.run([*self.engine, "inspect", "--format", "{{.State.Running}}", name],
                             capture_output=True, text=True)
        return out.stdout.strip() == "true"

    def remove_all(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for name in reversed(self.names):
            with open(self.logs / f"{name.rsplit('-', 1)[-1]}.log", "wb") as log:
                subprocess.run([*self.engine, "logs", name], stdout=log, stderr=subprocess.STDOUT)
            subprocess.run([*self.engine, "rm", "-f", "-t", "10", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.names.clear()


def is_signed(pdf: Path) -> bool:
    """The PDF has a filled signature field (certificates signs with pyHanko)."""
    fields = PdfReader(pdf).get_fields() or {}
    return any(f.get("/FT") == "/Sig" and f.get("/V") is not None for f in fields.values())


def wait_healthy(url: str, alive: object, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not alive():  # type: ignore[operator]
            raise RuntimeError(f"{url}: the container exited")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not healthy after {timeout}s")
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", default=ROOT / ".run" / "deploy-check", type=Path)
    args = parser.parse_args()
    state: Path = args.state_dir.resolve()
    shutil.rmtree(state, ignore_errors=True)
    (state / "mail").mkdir(parents=True)
    prefix = os.environ.get("SEND_IMAGE_PREFIX", "send-mediation")
    tag = os.environ.get("IMAGE_TAG", "dev")
    kafka_image = os.environ.get("SEND_KAFKA_IMAGE", f"{prefix}/kafka:4.1.1")
    postgres_image = os.environ.get("SEND_POSTGRES_IMAGE", f"{prefix}/postgres:15")
    smtp_image = os.environ.get("SEND_SMTP_IMAGE", f"{prefix}/smtp-sink:dev")

    engine = engine_command()
    if engine is None:
        print("deploy-check FAILED: no container engine (docker with a running daemon, or podman)")
        return 1
    containers = Containers(engine, uuid.uuid4().hex[:8], state / "logs")
    problems: list[str] = []
    summary: list[str] = []
    try:
        kafka_port, pg_port, smtp_port = free_port(), free_port(), free_port()
        containers.run("kafka", kafka_image, {"KAFKA_PORT": str(kafka_port),
                                              "KAFKA_CONTROLLER_PORT": str(free_port())})
        containers.run("postgres", postgres_image, {"PGPORT": str(pg_port), "POSTGRES_PASSWORD": "postgres"},
                       (f"{ROOT / 'deploy/postgres/init-databases.sql'}:/docker-entrypoint-initdb.d/"
                        "10-init-databases.sql:ro,Z",))
        containers.run("smtp", smtp_image, {"SMTP_PORT": str(smtp_port)}, (f"{state / 'mail'}:/mail:Z",))
        bootstrap = f"127.0.0.1:{kafka_port}"
        wait_for_kafka(bootstrap, timeout=120)
        wait_for_port("127.0.0.1", pg_port, timeout=60, what="PostgreSQL")
        wait_for_port("127.0.0.1", smtp_port, timeout=60, what="SMTP sink")
        print(f"deploy-check: Kafka {bootstrap}, PostgreSQL 127.0.0.1:{pg_port}, SMTP 127.0.0.1:{smtp_port}",
              flush=True)

        ports = {name: free_port() for name in SERVICES}
        for name in SERVICES:
            env_prefix = name.upper() + "_"
            env = {
                "PORT": str(ports[name]),
                f"{env_prefix}ENVIRONMENT": "development",
                f"{env_prefix}DATABASE_URL": f"postgresql+asyncpg://{name}:{name}@127.0.0.1:{pg_port}/{name}",
                f"{env_prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                f"{env_prefix}PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[name]}",
                f"{env_prefix}SCENARIO_CLOCK": "local",
            }
            if name == "notifications":
                env.update({"NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
                            "NOTIFICATIONS_SMTP_STARTTLS": "false",
                            "NOTIFICATIONS_CERTIFICATES_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['certificates']}"})
            containers.run(name, f"{prefix}/{name}:{tag}", env)
        for name in SERVICES:
            full = containers.names[-len(SERVICES) + SERVICES.index(name)]
            wait_healthy(f"http://127.0.0.1:{ports[name]}/healthz", lambda full=full: containers.running(full))
            print(f"deploy-check: {name} image healthy on 127.0.0.1:{ports[name]}", flush=True)

        demo = subprocess.run(
            [sys.executable, str(ROOT / "deploy/local/demo.py"), "--state-dir", str(state),
             "--intake", f"http://127.0.0.1:{ports['intake']}",
             "--scheduling", f"http://127.0.0.1:{ports['scheduling']}",
             "--certificates", f"http://127.0.0.1:{ports['certificates']}"],
            capture_output=True, text=True, timeout=600,
        )
        (state / "demo.log").write_text(demo.stdout + demo.stderr)
        print(demo.stdout, flush=True)
        if demo.returncode != 0:
            print(demo.stderr[-4000:], flush=True)
            problems.append(f"the demo failed (exit {demo.returncode}), see {state / 'demo.log'}")

        pdfs = sorted((state / "demo").glob("*.pdf"))
        signed = [p for p in pdfs if is_signed(p)]
        verified = demo.stdout.count("->  valid")
        emails = sorted((state / "mail").glob("*.eml"))
        texts = [e.read_text(errors="replace") for e in emails]
        sent = sum(1 for line in demo.stdout.splitlines() if line.split()[1:2] == ["email_sent"])
        summary += [f"signed certificate PDFs: {len(signed)} of {len(pdfs)} (verification answered 'valid': {verified})",
                    f"emails received by the SMTP sink: {len(emails)} (timelines record {sent} sent)"]
        if len(pdfs) < 2 or len(signed) != len(pdfs):
            problems.append(f"expected 2 signed certificate PDFs, got {len(signed)} signed of {len(pdfs)}")
        if verified < 2:
            problems.append(f"expected both certificates to verify as valid, got {verified}")
        if not emails or len(emails) != sent:
            problems.append(f"the SMTP sink has {len(emails)} emails, the timelines record {sent} sent")
        for pdf in pdfs:
            mentioning = sum(1 for text in texts if pdf.stem in text)
            summary.append(f"emails naming certificate {pdf.stem}: {mentioning}")
            if mentioning == 0:
                problems.append(f"no email names certificate {pdf.stem}")
    except Exception as exc:  # the summary below says what failed; the containers still go
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        containers.remove_all()
    print("\n".join(["", "deploy-check summary:", *(f"  {line}" for line in summary),
                     *(f"  problem: {p}" for p in problems),
                     f"  container logs: {state / 'logs'}"]))
    print(f"deploy-check {'FAILED' if problems else 'PASSED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
