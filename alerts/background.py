"""A background thread that does one pass when woken or when its next job falls due.

The deadline scheduler and the outbox deliverers share this loop: a pass returns when
its next job is due (epoch seconds, or ``None``), the thread sleeps until then (at most
``max_sleep``, so work written by another process is seen too), and ``wake()`` cuts the
sleep short when this process adds work. A failing pass is logged and retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.clock import Clock

log = logging.getLogger(__name__)


class Background:
    """Runs ``pass_`` on a thread named ``name``; ``start``, ``wake``, ``stop``."""

    def __init__(self, name: str, pass_: Callable[[], float | None], clock: Clock, max_sleep: float = 1.0) -> None:
        self.name, self._pass, self.clock, self.max_sleep = name, pass_, clock, max_sleep
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                nxt = self._pass()
            except Exception:
                log.exception("%s: pass failed; retrying", self.name)
                nxt = None
            wait = self.max_sleep if nxt is None else min(self.max_sleep, max(0.0, nxt - self.clock.now()))
            self._wake.wait(wait)
