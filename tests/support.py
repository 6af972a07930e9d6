"""Helpers the tests share: app serving, polling with a deadline, payloads."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from shared.events import Envelope, EventData

T = TypeVar("T")


def common_env(prefix: str, *, database_url: str, kafka_bootstrap: str, namespace: str) -> dict[str, str]:
    return {
        f"{prefix}ENVIRONMENT": "test",
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        f"{prefix}KAFKA_NAMESPACE": namespace,
        f"{prefix}OUTBOX_POLL_INTERVAL_SECONDS": "2",
        f"{prefix}CONSUMER_RETRY_BACKOFF_SECONDS": "0.05",
        f"{prefix}LOG_LEVEL": "INFO",
    }


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, producer, relay, consumer, workers) and talk to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            client.app = app  # type: ignore[attr-defined] # tests reach the runtime's sessionmaker through it
            yield client


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 60.0,
                     interval: float = 0.2, what: str = "condition") -> T:
    """Poll until ``probe`` returns something truthy. A deadline, not a speed assertion."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(interval)


#: The instant the fixed-date tests start at (their payloads name dates around it).
NOVEMBER_2026 = "2026-11-25T10:00:00+00:00"

PORTAL = {"Authorization": "Bearer dev-only-southend-portal"}
OPS = {"Authorization": "Bearer dev-only-ops"}


def case_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "mediation",
        "decision": "refusal_to_assess",
        "decision_date": "2026-11-02",
        "notice_sent_on": "2026-11-03",
        "told_on": "2026-11-20",
        "requester": {"role": "parent", "name": "Alex Example", "email": "alex@example.org"},
        "child": {"name": "Sam Example", "date_of_birth": "2015-06-01"},
        "mediation_issues": ["The refusal to carry out an EHC needs assessment"],
    }
    body.update(overrides)
    return body


async def handle(client: httpx.AsyncClient, data: EventData, handler: Callable[..., Awaitable[None]], *,
                 subject: str) -> Envelope[Any]:
    """Run one event handler in its own committed transaction, as the consumer loop would."""
    envelope = Envelope.wrap(data, source="/test", subject=subject)
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await handler(envelope, session)
        await session.commit()
    return envelope


class WebhookReceiver:
    """A mediation provider's webhook endpoint on a free port: answers from a script (then 200) and keeps what
    it received. A context manager: the server stops on exit."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        #: Answers this status to a body it returns one for, whatever the script says (a receiver that refuses
        #: one delivery's data).
        self.refuse: Callable[[bytes], int | None] = lambda body: None
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                status = receiver.refuse(body) or status
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


#: A requester whose certificate cannot be made (``document_unless_poison``).
POISON_DOCUMENT_NAME = "Poison Document"


def document_unless_poison(content: Any, reason: str) -> bytes:
    """In a certificates pool process, for ``documents.document_in_pool``: the real render and signature,
    except for a requester called ``POISON_DOCUMENT_NAME``, whose document fails as one that cannot be laid out."""
    from certificates.certificate import documents

    if content.requester_name == POISON_DOCUMENT_NAME:
        raise ValueError("this certificate cannot be laid out")
    return documents.document_in_pool(content, reason)
