"""An SMTP sink for containers: every accepted message becomes <MAIL_DIR>/<n>.eml.

The same files as shared.localinfra.smtp.MailFolder writes (X-Envelope-From and
X-Envelope-To headers, then the message as received), so a test reads them
through a mounted folder. Scripted replies: each ``<MAIL_DIR>/.scripts/*.json``
file (``{"to": "a@b" | null, "replies": ["451 ...", ...]}``), loaded in name
order when it appears, answers the next DATA commands for ``to`` (any
recipient when null), then messages are accepted again.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import deque
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scripts_dir = folder / ".scripts"
        self.scripts_dir.mkdir(parents=True, exist_ok=True)
        self.loaded: set[str] = set()
        self.scripts: list[tuple[str | None, deque[str]]] = []
        self.count = len(list(folder.glob("*.eml")))
        self.lock = threading.Lock()

    def _load_scripts(self) -> None:
        for path in sorted(self.scripts_dir.glob("*.json")):
            if path.name not in self.loaded:
                spec = json.loads(path.read_text())
                self.loaded.add(path.name)
                self.scripts.append((spec.get("to"), deque(spec["replies"])))

    def _scripted(self, recipients: list[str]) -> str | None:
        self._load_scripts()
        for to, replies in self.scripts:
            if replies and (to is None or to in recipients):
                return replies.popleft()
        return None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            reply = self._scripted(envelope.rcpt_tos)
            if reply is not None and not reply.startswith("250"):
                return reply
            self.count += 1
            number = self.count
        headers = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        tmp = self.folder / f".{number:06d}.tmp"
        tmp.write_bytes(headers.encode() + envelope.original_content)
        tmp.rename(self.folder / f"{number:06d}.eml")  # a reader never sees half a message
        return "250 Message accepted for delivery"


def main() -> None:
    folder = Path(os.environ.get("MAIL_DIR", "/mail"))
    port = int(os.environ.get("SMTP_PORT", "1025"))
    controller = Controller(Sink(folder), hostname="0.0.0.0", port=port)
    controller.start()
    print(f"smtp-sink: listening on {port}, writing to {folder}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
