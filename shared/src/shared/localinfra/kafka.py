"""A real Apache Kafka 4.x broker (KRaft, single node) started from Maven Central jars."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from shared.localinfra.ports import free_port, terminate, wait_for_port

KAFKA_VERSION = os.environ.get("SEND_KAFKA_VERSION", "4.1.1")


def cache_dir() -> Path:
    base = os.environ.get("SEND_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "send-mediation")
    return Path(base)


def resolve_jars(version: str = KAFKA_VERSION) -> Path:
    """Resolve kafka_2.13 and its runtime dependencies with Maven, once, into the cache."""
    libs = cache_dir() / f"kafka-{version}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    libs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(resources.files("shared.localinfra").joinpath("kafka-pom.xml").read_text())
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(pom), f"-Dkafka.version={version}",
             "dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
            check=True, stdin=subprocess.DEVNULL, stdout=sys.stderr,  # stdout may carry the path to a caller
        )
    marker.touch()
    return libs


def wait_for_kafka(bootstrap_servers: str, *, timeout: float = 60.0) -> None:
    """Wait until the broker answers a metadata request from a real client."""

    async def probe() -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        deadline = time.monotonic() + timeout
        while True:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
            try:
                await admin.start()
                await admin.list_topics()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
            finally:
                await admin.close()

    with ThreadPoolExecutor(1) as pool:  # callable from inside or outside a running event loop
        pool.submit(asyncio.run, probe()).result()


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class KafkaBroker:
    """One broker+controller node on loopback; ``stop()`` removes its data unless kept."""

    port: int = 0
    data_dir: Path | None = None
    keep_data: bool = False
    heap: str = "512m"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> KafkaBroker:
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()  # never leave a process or a data folder behind
            raise

    def _start(self, timeout: float) -> KafkaBroker:
        libs = resolve_jars()
        self.port = self.port or free_port()
        controller_port = free_port()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="send-kafka-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(exist_ok=True)
        properties = self.data_dir / "server.properties"
        properties.write_text(
            "\n".join([
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.data_dir / 'data'}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "",
            ])
        )
        classpath = f"{libs}/*"
        log4j = resources.files("shared.localinfra").joinpath("log4j2.xml")
        java_opts = [f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                     f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={log_dir}"]
        formatted = self.data_dir / "data" / "meta.properties"
        if not formatted.exists():
            subprocess.run(
                ["java", *java_opts, "-cp", classpath, "kafka.tools.StorageTool", "format",
                 f"--cluster-id={_cluster_id()}", "-c", str(properties)],
                check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            )
        out = open(log_dir / "stdout.log", "ab")  # noqa: SIM115 - lives as long as the broker
        self.process = subprocess.Popen(
            ["java", *java_opts, "-cp", classpath, "kafka.Kafka", str(properties)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, timeout=timeout, what="Kafka",
                      alive=lambda: self.process is not None and self.process.poll() is None)
        wait_for_kafka(self.bootstrap_servers, timeout=timeout)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """A broker whose data is kept shuts down cleanly (SIGTERM, ``timeout`` seconds); one whose data is about
        to be removed is killed at once: its controlled shutdown of every test's partitions took 30 s."""
        terminate(self.process, timeout=timeout if self.keep_data else 0)
        self.process = None
        if self.data_dir is not None and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
