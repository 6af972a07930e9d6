"""The four services as separate uvicorn processes (``make run`` and end-to-end tests), each started as in
production: ``python -m shared.serve`` (uvicorn's command line, a quieter housekeeping tick)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shared.localinfra.ports import terminate, wait_for_port


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app_factory: str
    env_prefix: str
    default_port: int


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("intake", "intake.main:create_app", "INTAKE_", 8001),
    ServiceSpec("scheduling", "scheduling.main:create_app", "SCHEDULING_", 8002),
    ServiceSpec("certificates", "certificates.main:create_app", "CERTIFICATES_", 8003),
    ServiceSpec("notifications", "notifications.main:create_app", "NOTIFICATIONS_", 8004),
)


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.serve", self.spec.app_factory, "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "10",
             # Every local caller is 127.0.0.1, which uvicorn trusts by default: no proxy is in front, so no
             # caller may name its own address in X-Forwarded-For (the per-IP limits would not hold).
             "--no-proxy-headers"],
            env={**os.environ, **self.env}, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_until_listening(timeout)
        return self

    def wait_until_listening(self, timeout: float = 60.0) -> None:
        wait_for_port("127.0.0.1", self.port, timeout=timeout, what=self.spec.name,
                      alive=lambda: self.process is not None and self.process.poll() is None)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self, timeout: float = 20.0) -> None:
        terminate(self.process, timeout=timeout)
        self.process = None
