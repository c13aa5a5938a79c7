"""``AlertIntake``: where detectors hand over alert events, without ever waiting.

``submit`` only appends to an in-memory queue under a lock, so the ingest pipeline
thread is never blocked by the database. A worker thread drains it, red first: each
red event is handled as soon as it is taken (its order is dispatched and its
notification queued in one commit; reds that queued up meanwhile share that commit);
other events are handled in batches, cut short as soon as a red event arrives. A red
event the database refuses (a restart, a lost connection) is retried for about 20 s
before it is given up. In a storm, when the non-red backlog exceeds ``max_pending``,
the oldest non-red events are dropped and counted; red events are never dropped.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
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
        self.max_pending, self.batch, self.red_batch = max_pending, batch, 10
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
        self.retried = Counter("gridwatch_alert_events_retried", "attempts to store a red event again",
                               registry=registry)
        self.red_retries = 12  # about 20 s of database trouble

    def submit(self, events: Sequence[AlertEvent]) -> None:
        """Queue events for handling; returns at once (called on the pipeline thread)."""
        if not events:
            return
        severities: dict[Severity, int] = {}  # counted once per severity: labels() costs ~1 µs a call
        dropped = 0
        with self._cond:
            for ev in events:
                severities[ev.severity] = severities.get(ev.severity, 0) + 1
                if ev.severity >= Severity.RED and ev.state == "firing":
                    self._red.append(ev)
                    continue
                if len(self._other) >= self.max_pending:
                    self._other.popleft()
                    dropped += 1
                self._other.append(ev)
            self._cond.notify()
        for severity, n in severities.items():
            self.received.labels(str(severity)).inc(n)
        if dropped:
            self.dropped.labels("backlog_full").inc(dropped)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._red) + len(self._other) + (1 if self._busy else 0)

    def drain(self) -> int:
        """Handle everything queued now, on the caller's thread (tests, replay); returns how many."""
        n = 0
        while True:
            with self._cond:
                work, cuttable = self._take()
                self._busy = bool(work)
            if not work:
                return n
            n += self._handle(work, cuttable)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty and nothing is being handled (tests, benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._red or self._other or self._busy), timeout)

    def _take(self) -> tuple[list[AlertEvent], bool]:
        """The next work and whether it may be cut short by a red arrival (non-red work only)."""
        if self._red:  # several waiting reds share one commit; one alone goes at once
            return [self._red.popleft() for _ in range(min(self.red_batch, len(self._red)))], False
        return [self._other.popleft() for _ in range(min(self.batch, len(self._other)))], True

    def _handle(self, work: list[AlertEvent], cuttable: bool = False) -> int:
        """Handle ``work`` in one transaction; returns how many events it took (the rest went back)."""
        done = len(work)
        try:
            with self.deps.tx() as tx:
                for i, ev in enumerate(work):
                    self.correlator.handle(tx, ev)
                    if cuttable and self._red and i + 1 < len(work):
                        # a red event arrived: commit what is done and let it pass
                        with self._cond:
                            self._other.extendleft(reversed(work[i + 1:]))
                        done = i + 1
                        break
        except Exception:
            if len(work) == 1:
                return self._failed_one(work[0])
            return sum(self._handle([ev]) for ev in work[:done])  # one bad event must not sink the batch
        return done

    def _failed_one(self, ev: AlertEvent) -> int:
        """A red event is retried (the database may be restarting) before it is given up; others are not."""
        error = sys.exc_info()[1]
        if ev.severity >= Severity.RED and ev.state == "firing":
            for attempt in range(1, self.red_retries + 1):
                self.retried.inc()
                time.sleep(min(2.0, 0.1 * 2**attempt))
                try:
                    with self.deps.tx() as tx:
                        self.correlator.handle(tx, ev)
                    log.warning("red alert %s stored after %d retries", ev.fingerprint, attempt)
                    return 1
                except Exception as exc:
                    error = exc
        self.failed.inc()
        log.error("alert event %s could not be handled; given up", ev.fingerprint, exc_info=error)
        return 1

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
                work, cuttable = self._take()
                self._busy = True
            try:
                self._handle(work, cuttable)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
