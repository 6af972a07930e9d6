"""Kafka, PostgreSQL and an SMTP sink through testcontainers, when a Docker-compatible engine answers.

``SEND_TEST_CONTAINERS``: ``auto`` (default) uses containers when the engine named by ``DOCKER_HOST`` (or
the default Docker socket, or podman's rootful/rootless socket) answers a ``/_ping`` and has the three
images, and local processes (shared.localinfra: today's path, the one CI takes) otherwise; ``1`` requires
an engine (and pulls or fails on a missing image); ``0`` never asks. Only an engine that answers counts: a
``docker`` CLI without a daemon does not.

Images (``SEND_KAFKA_IMAGE``, ``SEND_POSTGRES_IMAGE``, ``SEND_SMTP_IMAGE``) default to the ones
``make images`` builds locally (deploy/images/build.sh), so no registry is needed. testcontainers' reaper
(Ryuk) pulls an image of its own, so it is off unless ``TESTCONTAINERS_RYUK_DISABLED`` says otherwise:
every container started here is stopped by the fixture (or benchmark) that started it.

``start_kafka()``, ``start_postgres()`` and ``start_smtp(folder)`` return objects shaped like
shared.localinfra's ``KafkaBroker``, ``PostgresCluster`` and ``SmtpServer`` (``bootstrap_servers``,
``url(database)``, ``port``/``handler``, ``stop()``), whichever way they run.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shared.localinfra.kafka import KafkaBroker, wait_for_kafka
from shared.localinfra.ports import free_port, wait_for_port
from shared.localinfra.postgres import PostgresCluster
from shared.localinfra.smtp import MailFolder, SmtpServer

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

# Short names: docker keeps them as built, podman finds them under localhost/.
DEFAULT_KAFKA_IMAGE = "send-mediation/kafka:4.1.1"
DEFAULT_POSTGRES_IMAGE = "send-mediation/postgres:15"
DEFAULT_SMTP_IMAGE = "send-mediation/smtp-sink:dev"
POSTGRES_PASSWORD = "postgres"  # a throw-away test cluster on a random port


def candidate_engines() -> list[str]:
    """Docker-compatible API endpoints to try, in order: DOCKER_HOST alone when it is set."""
    if os.environ.get("DOCKER_HOST"):
        return [os.environ["DOCKER_HOST"]]
    sockets = ["/var/run/docker.sock", "/run/podman/podman.sock"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        sockets.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "podman", "podman.sock"))
    return [f"unix://{path}" for path in sockets]


def ping(url: str, timeout: float = 3.0) -> bool:
    """True when the Docker API at ``url`` (unix:// or tcp://) answers ``GET /_ping`` with 200."""
    return _get(url, "/_ping", timeout) == 200


def images() -> list[str]:
    """The images the fixtures run (``SEND_*_IMAGE`` or the local defaults)."""
    return [os.environ.get("SEND_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE),
            os.environ.get("SEND_POSTGRES_IMAGE", DEFAULT_POSTGRES_IMAGE),
            os.environ.get("SEND_SMTP_IMAGE", DEFAULT_SMTP_IMAGE)]


def missing_images(url: str, timeout: float = 3.0) -> list[str]:
    """Which of ``images()`` the engine at ``url`` does not have (``GET /images/<name>/json``)."""
    return [name for name in images()
            if _get(url, f"/images/{urllib.parse.quote(name, safe='')}/json", timeout) != 200]


def _get(url: str, path: str, timeout: float) -> int | None:
    """The status of ``GET path`` on the Docker API at ``url``, or None when nothing answers."""
    parsed = urllib.parse.urlparse(url)
    connection: http.client.HTTPConnection
    try:
        if parsed.scheme == "unix":
            connection = _UnixConnection(parsed.path, timeout)
        elif parsed.scheme in ("tcp", "http"):
            connection = http.client.HTTPConnection(parsed.hostname or "localhost", parsed.port or 2375,
                                                    timeout=timeout)
        else:  # ssh://, npipe:// or TLS: not probed here; set SEND_TEST_CONTAINERS=1 to use them anyway
            return None
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException):
        return None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def reachable_engine() -> str | None:
    """The first engine endpoint that answers, or None."""
    return next((url for url in candidate_engines() if ping(url)), None)


def use_containers() -> bool:
    """Whether the fixtures start their servers through testcontainers (see the module docstring)."""
    mode = os.environ.get("SEND_TEST_CONTAINERS", "auto").strip().lower()
    if mode in ("0", "false", "no", "off"):
        return False
    engine = reachable_engine()
    if mode in ("1", "true", "yes", "on"):
        if engine is None and not os.environ.get("DOCKER_HOST"):
            raise RuntimeError("SEND_TEST_CONTAINERS=1 but no Docker-compatible engine answers "
                               f"(tried {', '.join(candidate_engines())}); set DOCKER_HOST")
        return True
    if mode != "auto":
        raise RuntimeError(f"SEND_TEST_CONTAINERS must be 0, 1 or auto, not {mode!r}")
    # auto: only with the images at hand (an engine on a CI runner without `make images` keeps the local path).
    return engine is not None and not missing_images(engine)


def _prepare_environment() -> None:
    engine = reachable_engine()
    if engine and not os.environ.get("DOCKER_HOST"):
        os.environ["DOCKER_HOST"] = engine  # testcontainers' docker client looks only at DOCKER_HOST
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    # Published ports on the engine's host, even when this process itself runs in a container (a CI job or a
    # sandbox), where testcontainers would otherwise guess a gateway address.
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")


def _container(image: str) -> DockerContainer:
    _prepare_environment()
    from testcontainers.core.container import DockerContainer

    return DockerContainer(image)


def _stop(container: DockerContainer, what: str) -> None:
    # A server that died under the suite says why (its last log lines) before the container goes.
    with contextlib.suppress(Exception):
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status != "running":
            code = wrapped.attrs.get("State", {}).get("ExitCode")
            tail = wrapped.logs(tail=40).decode(errors="replace")
            sys.stderr.write(f"\n{what} container {wrapped.short_id} had exited (code {code}); its last lines:\n{tail}\n")
    # Removes the container and its anonymous volumes; already gone is fine, and a failure here must never
    # mask the test's own.
    with contextlib.suppress(Exception):
        container.stop()


def engine_host() -> str:
    """Where the engine publishes ports: its host for tcp://, else this machine."""
    parsed = urllib.parse.urlparse(os.environ.get("DOCKER_HOST", ""))
    return parsed.hostname if parsed.scheme in ("tcp", "http") and parsed.hostname else "127.0.0.1"


class KafkaLike(Protocol):
    @property
    def bootstrap_servers(self) -> str: ...

    def stop(self) -> None: ...


class PostgresLike(Protocol):
    def url(self, database: str) -> str: ...

    def stop(self) -> None: ...


@dataclass
class KafkaContainer:
    """The local Kafka image; the client port is the same number inside and out, so the advertised
    listener is right from the host."""

    image: str = field(default_factory=lambda: os.environ.get("SEND_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE))
    container: DockerContainer | None = field(default=None, init=False)
    port: int = field(default=0, init=False)
    host: str = field(default="127.0.0.1", init=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 120.0) -> KafkaContainer:
        self.port = free_port()
        container = _container(self.image)
        self.host = engine_host()
        container.with_env("KAFKA_PORT", str(self.port)).with_env("KAFKA_ADVERTISED_HOST", self.host)
        container.with_bind_ports(self.port, self.port)
        self.container = container
        try:
            container.start()
            wait_for_kafka(self.bootstrap_servers, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.container is not None:
            _stop(self.container, "Kafka")
            self.container = None


@dataclass
class PostgresContainer:
    """The local PostgreSQL 15 image (any image honouring POSTGRES_PASSWORD and port 5432)."""

    image: str = field(default_factory=lambda: os.environ.get("SEND_POSTGRES_IMAGE", DEFAULT_POSTGRES_IMAGE))
    container: DockerContainer | None = field(default=None, init=False)
    host: str = field(default="127.0.0.1", init=False)
    port: int = field(default=0, init=False)

    @property
    def base_url(self) -> str:
        return f"postgresql+asyncpg://postgres:{POSTGRES_PASSWORD}@{self.host}:{self.port}"

    def url(self, database: str) -> str:
        return f"{self.base_url}/{database}"

    def start(self, timeout: float = 90.0) -> PostgresContainer:
        container = _container(self.image)
        container.with_env("POSTGRES_PASSWORD", POSTGRES_PASSWORD).with_exposed_ports(5432)
        self.container = container
        try:
            container.start()
            self.host = engine_host()
            self.port = int(container.get_exposed_port(5432))
            _wait_for_postgres(self.url("postgres"), timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.container is not None:
            _stop(self.container, "PostgreSQL")
            self.container = None


def _wait_for_postgres(url: str, *, timeout: float) -> None:
    import asyncio

    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=5)
                await connection.close()
                return
            except (TimeoutError, OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # callable from inside or outside a running event loop
        pool.submit(asyncio.run, probe()).result()


class ContainerMailFolder(MailFolder):
    """MailFolder over a folder the SMTP-sink container writes: scripts go to the sink as files."""

    def script(self, *replies: str, to: str | None = None) -> None:
        scripts = self.folder / ".scripts"
        scripts.mkdir(exist_ok=True)
        number = len(list(scripts.glob("*.json"))) + 1
        tmp = scripts / f".{number:06d}.tmp"
        tmp.write_text(json.dumps({"to": to, "replies": list(replies)}))
        tmp.rename(scripts / f"{number:06d}.json")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # pragma: no cover
        raise RuntimeError("the SMTP-sink container receives the mail, not this process")


@dataclass
class SmtpContainer:
    """The SMTP-sink image writing .eml files into ``folder`` (mounted), like SmtpServer."""

    folder: Path
    image: str = field(default_factory=lambda: os.environ.get("SEND_SMTP_IMAGE", DEFAULT_SMTP_IMAGE))
    host: str = field(default="127.0.0.1", init=False)
    port: int = field(default=0, init=False)
    handler: ContainerMailFolder = field(init=False)
    container: DockerContainer | None = field(default=None, init=False)

    def start(self, timeout: float = 60.0) -> SmtpContainer:
        self.handler = ContainerMailFolder(self.folder)
        (self.folder / ".scripts").mkdir(exist_ok=True)
        container = _container(self.image)
        container.with_exposed_ports(1025).with_volume_mapping(str(self.folder.resolve()), "/mail", "rw")
        self.container = container
        try:
            container.start()
            self.host = engine_host()
            self.port = int(container.get_exposed_port(1025))
            _wait_for_smtp(self.host, self.port, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.container is not None:
            _stop(self.container, "SMTP sink")
            self.container = None


def _wait_for_smtp(host: str, port: int, *, timeout: float) -> None:
    """Until the sink greets: a published port accepts connections before the server inside listens."""
    wait_for_port(host, port, timeout=timeout, what="SMTP sink")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as sock:
                if sock.recv(3) == b"220":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the SMTP sink on {host}:{port} did not greet within {timeout}s")
        time.sleep(0.2)


def start_kafka() -> KafkaLike:
    """A broker: a container when ``use_containers()``, else a local process."""
    return KafkaContainer().start() if use_containers() else KafkaBroker().start()


def start_postgres() -> PostgresLike:
    """A throw-away PostgreSQL: a container when ``use_containers()``, else a local cluster."""
    return PostgresContainer().start() if use_containers() else PostgresCluster().start()


def start_smtp(folder: Path, *, containers: bool | None = None) -> SmtpServer | SmtpContainer:
    """An SMTP server writing .eml files to ``folder``: the sink image, or aiosmtpd in this process."""
    if use_containers() if containers is None else containers:
        return SmtpContainer(folder).start()
    return SmtpServer(folder=folder).start()
