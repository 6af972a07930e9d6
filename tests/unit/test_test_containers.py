"""The fixtures' choice between testcontainers and local processes, and the SMTP sink's scripted replies.

No engine is needed: an engine counts only when it answers ``GET /_ping``, so a socket nobody serves (or
that answers something else) keeps the local-process path CI takes.
"""

from __future__ import annotations

import asyncio
import http.server
import importlib.util
import re
import shutil
import socketserver
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from shared.localinfra.smtp import SmtpServer
from shared.testing import containers

ROOT = Path(__file__).resolve().parents[2]


class _PingHandler(http.server.BaseHTTPRequestHandler):
    """/_ping answers ``status``; /images/<name>/json 200 for the names in ``images``."""

    status = 200
    images: tuple[str, ...] = tuple(containers.images())

    def do_GET(self) -> None:
        known = {f"/images/{urllib.parse.quote(name, safe='')}/json" for name in self.images}
        self.send_response(self.status if self.path == "/_ping" else 200 if self.path in known else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args: object) -> None:
        pass


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):  # type: ignore[no-untyped-def]
        request, _ = super().get_request()
        return request, ("local", 0)  # BaseHTTPRequestHandler wants a (host, port) client address


@pytest.fixture
def engine_socket() -> Iterator[tuple[str, type[_PingHandler]]]:
    """A unix socket answering the Docker API's /_ping (200 unless the test changes the handler's status)."""
    handler = type("Handler", (_PingHandler,), {"status": 200})
    short = Path(tempfile.mkdtemp(prefix="send-ping-"))  # a unix socket path has at most 107 bytes
    path = short / "engine.sock"
    server = _UnixHTTPServer(str(path), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}", handler
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(short, ignore_errors=True)


def test_an_engine_that_answers_the_ping_means_containers(monkeypatch, engine_socket):
    url, _ = engine_socket
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.setenv("SEND_TEST_CONTAINERS", "auto")

    assert containers.ping(url)
    assert containers.reachable_engine() == url
    assert containers.use_containers()


def test_an_engine_without_the_images_keeps_the_local_processes_unless_forced(monkeypatch, engine_socket):
    url, handler = engine_socket
    handler.images = tuple(containers.images()[:1])
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.delenv("SEND_TEST_CONTAINERS", raising=False)

    assert containers.missing_images(url) == containers.images()[1:]
    assert not containers.use_containers()
    monkeypatch.setenv("SEND_TEST_CONTAINERS", "1")
    assert containers.use_containers()


def test_no_engine_answering_keeps_the_local_processes(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'nobody-serves-this.sock'}")
    monkeypatch.delenv("SEND_TEST_CONTAINERS", raising=False)

    assert containers.reachable_engine() is None
    assert not containers.use_containers()


def test_an_engine_that_answers_something_else_does_not_count(monkeypatch, engine_socket):
    url, handler = engine_socket
    handler.status = 500
    monkeypatch.setenv("DOCKER_HOST", url)

    assert not containers.ping(url)
    assert not containers.use_containers()


def test_a_closed_tcp_port_does_not_count(monkeypatch):
    from shared.localinfra.ports import free_port

    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")

    assert not containers.use_containers()


def test_send_test_containers_0_never_asks_the_engine(monkeypatch, engine_socket):
    url, _ = engine_socket
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.setenv("SEND_TEST_CONTAINERS", "0")

    assert not containers.use_containers()


def test_send_test_containers_1_without_any_engine_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(containers, "candidate_engines", lambda: [f"unix://{tmp_path / 'none.sock'}"])
    monkeypatch.setenv("SEND_TEST_CONTAINERS", "1")

    with pytest.raises(RuntimeError, match="no Docker-compatible engine answers"):
        containers.use_containers()


def test_a_misspelt_mode_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    monkeypatch.setenv("SEND_TEST_CONTAINERS", "sometimes")

    with pytest.raises(RuntimeError, match="0, 1 or auto"):
        containers.use_containers()


def test_docker_host_alone_is_tried_when_set(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/else.sock")

    assert containers.candidate_engines() == ["unix:///somewhere/else.sock"]


def test_without_containers_the_smtp_server_is_the_local_one(tmp_path):
    server = containers.start_smtp(tmp_path / "mail", containers=False)
    try:
        assert isinstance(server, SmtpServer)
    finally:
        server.stop()


def test_the_default_images_are_the_ones_make_images_builds():
    script = (ROOT / "deploy/images/build.sh").read_text()
    built = set(re.findall(r'-t "\$prefix/([a-z-]+):(\$[a-z_]+|[0-9.a-z]+)"', script))

    assert ("kafka", "$kafka_version") in built and 'kafka_version="${SEND_KAFKA_VERSION:-4.1.1}"' in script
    assert ("postgres", "15") in built and ("smtp-sink", "dev") in built
    assert containers.DEFAULT_KAFKA_IMAGE == "send-mediation/kafka:4.1.1"
    assert containers.DEFAULT_POSTGRES_IMAGE == "send-mediation/postgres:15"
    assert containers.DEFAULT_SMTP_IMAGE == "send-mediation/smtp-sink:dev"


def _smtp_sink() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smtp_sink", ROOT / "deploy/images/smtp-sink.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_written_by_the_fixture_are_the_sinks_replies_then_mail_is_accepted(tmp_path):
    folder = tmp_path / "mail"
    sink = _smtp_sink().Sink(folder)
    mail = containers.ContainerMailFolder(folder)
    mail.script("451 4.3.0 Try again later", to="parent@example.org")
    mail.script("550 5.1.1 No such mailbox", to="gone@example.org")

    def deliver(to: str) -> str:
        envelope = SimpleNamespace(mail_from="noreply@example.org", rcpt_tos=[to],
                                   original_content=f"Subject: hello\r\nTo: {to}\r\n\r\nbody\r\n".encode())
        return asyncio.run(sink.handle_DATA(None, None, envelope))

    assert deliver("other@example.org").startswith("250")
    assert deliver("parent@example.org").startswith("451")
    assert deliver("parent@example.org").startswith("250")
    assert deliver("gone@example.org").startswith("550")
    assert [str(m["X-Envelope-To"]) for m in mail.messages()] == ["other@example.org", "parent@example.org"]
    assert [m["Subject"] for m in mail.messages(to="parent@example.org")] == ["hello"]
