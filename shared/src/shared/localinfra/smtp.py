"""A real SMTP server on loopback (aiosmtpd) that keeps every message as a .eml file."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from shared.localinfra.ports import free_port


class MailFolder:
    """The aiosmtpd handler: writes each accepted message to ``<folder>/<n>.eml``.

    ``script`` lets a test make the server answer, say, ``451`` and then
    accept, or refuse with ``550``: each DATA (for the scripted recipient, or
    any) takes the next scripted reply, then is accepted.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._scripts: list[tuple[str | None, deque[str]]] = []
        self._counter = itertools.count(len(list(folder.glob("*.eml"))) + 1)
        self._lock = threading.Lock()

    def script(self, *replies: str, to: str | None = None) -> None:
        """Answer the next DATA commands for ``to`` (any recipient when None) with ``replies``, in order."""
        with self._lock:
            self._scripts.append((to, deque(replies)))

    def _next_scripted_reply(self, recipients: list[str]) -> str | None:
        with self._lock:
            for to, replies in self._scripts:
                if replies and (to is None or to in recipients):
                    return replies.popleft()
        return None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._next_scripted_reply(envelope.rcpt_tos)
        if reply is not None and not reply.startswith("250"):
            return reply
        with self._lock:
            number = next(self._counter)
        path = self.folder / f"{number:06d}.eml"
        headers = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        path.write_bytes(headers.encode() + envelope.original_content)
        return "250 Message accepted for delivery"

    def messages(self, *, to: str | None = None) -> list[EmailMessage]:
        """Every accepted message, oldest first; only those delivered to ``to`` when given."""
        every = [message_from_bytes(path.read_bytes(), policy=policy.default)
                 for path in sorted(self.folder.glob("*.eml"))]
        return [m for m in every if to is None or to in str(m["X-Envelope-To"]).split(", ")]


@dataclass
class SmtpServer:
    folder: Path
    port: int = 0
    host: str = "127.0.0.1"
    handler: MailFolder = field(init=False)
    _controller: Controller | None = field(default=None, init=False)

    def start(self) -> SmtpServer:
        self.port = self.port or free_port()
        self.handler = MailFolder(self.folder)
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
