"""Time as a dependency, so replay and tests run on simulated time.

Every component that needs "now" takes a ``Clock``. Production uses
``SystemClock``; tests and replay use ``ManualClock`` and move it themselves.

>>> c = ManualClock(1_000.0)
>>> c.advance(2.5); c.now()
1002.5
>>> c.now_ms()
1002500
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (UTC)."""
        ...

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to; thread-safe."""

    def __init__(self, start: float = 1_732_233_600.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def now_ms(self) -> int:
        return round(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._now = float(epoch_seconds)
