"""The project's one clock: every "now" and every statutory "today" comes from here.

- ``now()`` is an aware UTC instant: timestamps, due times, event times.
- ``today()`` is the date in England (Europe/London): the day the law counts
  from. At 00:30 BST on 2 July it is 2 July, although UTC still says 1 July.

The clock is real time shifted by an offset. In production the offset is
always zero (the system clock). Tests set it to a fixed instant so that no test
depends on the day it runs; a non-production deployment may follow a named
*scenario clock* that an operator advances (``shared.scenario_clock``), so a
council can rehearse a case across its 30 days in minutes.

Nothing else in the code reads the wall clock for a statutory purpose;
``time.monotonic()`` (durations, timeouts) is not a reading of the date.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock:
    """Real time plus an offset; listeners hear of every move (workers re-check what became due)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        """Today in England: the London date of ``now()``."""
        return self.now().astimezone(LONDON).date()

    def london_now(self) -> datetime:
        return self.now().astimezone(LONDON)

    @property
    def offset(self) -> timedelta:
        return self._offset

    @property
    def moved(self) -> bool:
        return self._frozen_at is not None or self._offset != timedelta(0)

    def set(self, instant: datetime, *, tick: bool = True) -> None:
        """Make ``now()`` answer ``instant`` from here on; with ``tick`` it then runs on in real time."""
        if instant.tzinfo is None:
            raise ValueError("the clock is set to an aware instant")
        with self._lock:
            if tick:
                self._frozen_at = None
                self._offset = instant.astimezone(UTC) - datetime.now(UTC)
            else:
                self._frozen_at = instant.astimezone(UTC)
        self._notify()

    def set_offset(self, offset: timedelta) -> None:
        with self._lock:
            self._frozen_at, self._offset = None, offset
        self._notify()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta
        self._notify()

    def reset(self) -> None:
        """Back to the system clock."""
        self.set_offset(timedelta(0))

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever the clock moves; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


CLOCK = Clock()


def now() -> datetime:
    """The current instant (aware, UTC) from the project's clock."""
    return CLOCK.now()


def today() -> date:
    """Today's date in England from the project's clock."""
    return CLOCK.today()


def real_now() -> datetime:
    """The machine's own time, never moved: only for protocols whose far side checks it against its wall
    clock (webhook signature timestamps, HTTP dates, X.509 validity). Never a statutory date."""
    return datetime.now(UTC)


def london(instant: datetime) -> datetime:
    return instant.astimezone(LONDON)


def london_date(instant: datetime) -> date:
    """The England date of an instant (a certificate issued at 00:30 BST is dated that London day)."""
    return instant.astimezone(LONDON).date()
