"""Run a service under uvicorn, its housekeeping tick once a second rather than ten times (issue 12: idle CPU).

``python -m shared.serve intake.main:create_app --factory --port 8001`` takes uvicorn's own command line
(every option of ``python -m uvicorn``) and runs the app as uvicorn would, with one difference: uvicorn's
``Server.main_loop`` wakes every 0.1 s to see whether it should exit and, every tenth time, to refresh the
``Date`` header. Measured with nothing else in the process, those wake-ups are 0.2 % of a core
(a bare FastAPI app: 12 clock ticks a minute; the same app woken once a second: 1), which was 40 % of what
an idle service may use (< 0.5 % of a core). Here the loop wakes once a second, does the once-a-second work
each time, and wakes at once when a signal asks it to stop, so SIGTERM is handled as promptly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from types import FrameType

import uvicorn

#: Seconds between the server's housekeeping wake-ups (uvicorn's own: 0.1).
TICK_SECONDS = 1.0
#: uvicorn counts its ticks in tenths of a second; its once-a-second work runs when the count is a multiple of 10.
TICKS_PER_WAKE = 10
_COUNTER_WRAP = 864_000


class QuietServer(uvicorn.Server):
    """uvicorn's server with a once-a-second housekeeping tick, woken at once by SIGTERM or SIGINT."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_asked: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._stop_asked = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)  # True at once after a signal before the loop began
        while not should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_asked.wait(), timeout=TICK_SECONDS)
            counter = (counter + TICKS_PER_WAKE) % _COUNTER_WRAP
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._stop_asked is not None:
            # A signal handler runs between two bytecodes of the loop's thread: hand the wake-up to the loop.
            self._loop.call_soon_threadsafe(self._stop_asked.set)


def main() -> None:
    """uvicorn's command line, serving with ``QuietServer``: ``uvicorn.main.run`` builds its server from the
    module's ``Server`` name."""
    cli = importlib.import_module("uvicorn.main")  # the module: ``uvicorn.main`` the attribute is its command
    cli.Server = QuietServer  # type: ignore[attr-defined]
    cli.main()


if __name__ == "__main__":
    main()
