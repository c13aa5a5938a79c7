"""``AlertIntake``: where detectors hand over alert events, without ever waiting.

``submit`` only appends to an in-memory queue under a lock, so the ingest pipeline
thread is never blocked by the database. A worker thread drains it, red first: each
red event is handled in its own transaction (its order is dispatched and its
notification queued at once); other events are handled in small batches, and a
batch is cut short as soon as a red event arrives. In a storm, when the non-red
backlog exceeds ``max_pending``, the oldest non-red events are dropped and counted;
red events are never dropped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter

from alerts.incidents import Correlator
from alerts.unit import Deps
from core.alert import AlertEvent
from core.severity import Severity

log = logging.getLogger(__name__)


class AlertIntake:
    """Thread-safe, non-blocking hand-off of alert events; ``start``/``stop`` run the drainer."""

    def __init__(self, deps: Deps, registry: CollectorRegistry | None = None,
                 max_pending: int = 100_000, batch: int = 200) -> None:
        self.deps = deps
        self.correlator = Correlator(deps)
        self.max_pending, self.batch = max_pending, batch
        self._red: deque[AlertEvent] = deque()
        self._other: deque[AlertEvent] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self.received = Counter("gridwatch_alert_events", "alert events received, by severity", ["severity"],
                                registry=registry)
        self.dropped = Counter("gridwatch_alert_events_dropped", "alert events dropped, by reason", ["reason"],
                               registry=registry)
        self.failed = Counter("gridwatch_alert_events_failed", "alert events that could not be stored",
                              registry=registry)

    def submit(self, events: Sequence[AlertEvent]) -> None:
        """Queue events for handling; returns at once (called on the pipeline thread)."""
        if not events:
            return
        with self._cond:
            for ev in events:
                self.received.labels(str(ev.severity)).inc()
                if ev.severity >= Severity.RED and ev.state == "firing":
                    self._red.append(ev)
                    continue
                if len(self._other) >= self.max_pending:
                    self._other.popleft()
                    self.dropped.labels("backlog_full").inc()
                self._other.append(ev)
            self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._red) + len(self._other) + (1 if self._busy else 0)

    def drain(self) -> int:
        """Handle everything queued now, on the caller's thread (tests, replay); returns how many."""
        n = 0
        while True:
            with self._cond:
                work = self._take()
                self._busy = bool(work)
            if not work:
                return n
            self._handle(work)
            n += len(work)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty and nothing is being handled (tests, benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._red or self._other or self._busy), timeout)

    def _take(self) -> list[AlertEvent]:
        if self._red:
            return [self._red.popleft()]
        return [self._other.popleft() for _ in range(min(self.batch, len(self._other)))]

    def _handle(self, work: list[AlertEvent]) -> None:
        try:
            with self.deps.tx() as tx:
                for i, ev in enumerate(work):
                    self.correlator.handle(tx, ev)
                    if self._red and i + 1 < len(work):  # a red event arrived: commit and let it pass
                        with self._cond:
                            self._other.extendleft(reversed(work[i + 1:]))
                        break
        except Exception:
            if len(work) == 1:
                self.failed.inc()
                log.exception("alert event %s could not be handled", work[0].fingerprint)
                return
            for ev in work:  # one bad event must not sink the batch
                self._handle([ev])

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._loop, name="alerts-intake", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Handle what is queued (up to ``timeout``), then stop the thread."""
        self.wait_idle(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._red or self._other)
                if self._stop:
                    return
                work = self._take()
                self._busy = True
            try:
                self._handle(work)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
