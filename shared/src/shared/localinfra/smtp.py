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

    ``scripted_replies`` lets a test make the server answer, say, ``451`` and
    then accept, or refuse with ``550``; each DATA takes the next reply.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scripted_replies: deque[str] = deque()
        self._counter = itertools.count(len(list(folder.glob("*.eml"))) + 1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.scripted_replies:
            reply = self.scripted_replies.popleft()
            if not reply.startswith("250"):
                return reply
        with self._lock:
            number = next(self._counter)
        path = self.folder / f"{number:06d}.eml"
        headers = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        path.write_bytes(headers.encode() + envelope.original_content)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]


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
