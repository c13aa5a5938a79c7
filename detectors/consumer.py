"""Plug the engine into the service: a batch consumer, a scoring thread, a once-a-second ticker, metrics.

``DetectorConsumer`` is what the composition root registers with the ingest pipeline
and starts/stops with the service; every alert transition goes to ``submit``
(``alerts.intake.AlertIntake.submit``: never blocks). Storage is a separate consumer,
so a slow InfluxDB never delays detection.

Once started, ``consume(batch)`` only queues the batch; a scoring thread takes
everything queued, joins it per kind and scores it. So the detectors' fixed cost per
call (dozens of numpy operations per detector) is paid per *backlog*, not per
pipeline round: when readings arrive one per message, rounds are small and scoring
them one by one cost more than decoding them. An idle scorer takes a batch at once
(no added latency); a busy one lets the next batches gather. Past ``max_queued``
readings, ``consume`` waits: the pipeline slows, acknowledgements wait, the broker
holds the rest. Before ``start`` (tests, tools) batches are scored inline.

>>> from core.city import load_city
>>> from core.clock import ManualClock
>>> from core.metrics import new_registry, render
>>> engine = DetectorEngine(load_city("tests/data/city-small"), clock=ManualClock())
>>> got = []
>>> consumer = DetectorConsumer(engine, got.extend, ManualClock(), registry=new_registry())
>>> consumer.tick_once()
0
>>> b'gridwatch_detector_state_bytes' in render(consumer.registry)
True
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from core.alert import AlertEvent
from core.batch import ReadingBatch
from core.clock import Clock
from detectors.engine import DetectorEngine

log = logging.getLogger(__name__)


class DetectorConsumer:
    """Score accepted batches on a scoring thread; tick time-driven rules once a second on another."""

    def __init__(self, engine: DetectorEngine, submit: Callable[[Sequence[AlertEvent]], None], clock: Clock,
                 registry: CollectorRegistry | None = None, tick_s: float = 1.0,
                 max_queued: int = 1_000_000) -> None:
        self.engine, self.submit, self.clock, self.tick_s = engine, submit, clock, tick_s
        self.registry, self.max_queued = registry, max_queued
        self.errors = 0  # batches the engine failed on (logged; gridwatch_detector_errors_total)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scorer: threading.Thread | None = None
        self._queue: deque[ReadingBatch] = deque()
        self._queued = 0  # readings in the queue
        self._busy = False
        self._cond = threading.Condition()
        if registry is not None:
            registry.register(DetectorCollector(engine, self))

    def consume(self, batch: ReadingBatch) -> None:
        """Called on the pipeline thread for every accepted batch: queue it (inline before ``start``)."""
        if self._scorer is None:
            self._score([batch])
            return
        with self._cond:
            while self._queued >= self.max_queued and self._scorer.is_alive():
                self._cond.wait(0.1)  # backpressure: the scorer is this far behind
            self._queue.append(batch)
            self._queued += len(batch)
            self._cond.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued batch is scored (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _score_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stop.is_set())
                if not self._queue:
                    return  # stopping, and everything is scored
                batches = list(self._queue)
                self._queue.clear()
                self._queued, self._busy = 0, True
                self._cond.notify_all()
            try:
                self._score(batches)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _score(self, batches: list[ReadingBatch]) -> None:
        """Score batches per kind, in arrival order, joined: one engine call per kind."""
        by_kind: dict[str, list[ReadingBatch]] = {}
        for b in batches:
            by_kind.setdefault(b.kind, []).append(b)
        for group in by_kind.values():
            batch = group[0] if len(group) == 1 else ReadingBatch.concat(group)
            try:
                events = self.engine.process(batch)
            except Exception:  # a bug in one detector must not stop the others, nor the next batches
                self.errors += 1
                log.exception("detectors failed on %d %s readings", len(batch), batch.kind)
                continue
            if events:
                self.submit(events)

    def tick_once(self) -> int:
        events = self.engine.tick(self.clock.now_ms())
        if events:
            self.submit(events)
        return len(events)

    def start(self) -> None:
        self.engine.prepare()
        self._scorer = threading.Thread(target=self._score_loop, name="detector-score", daemon=True)
        self._scorer.start()
        self._thread = threading.Thread(target=self._run, name="detector-tick", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick_once()
            except Exception:  # a bug in a time rule must not stop the others next second
                log.exception("detector tick failed")

    def stop(self) -> None:
        """Score what is queued, then stop both threads."""
        with self._cond:
            self._stop.set()
            self._cond.notify_all()
        if self._scorer is not None:
            self._scorer.join(timeout=30)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.engine.close()


class DetectorCollector(Collector):
    """Reads the engine's counters at scrape time: no cost on the hot path."""

    def __init__(self, engine: DetectorEngine, consumer: DetectorConsumer | None = None) -> None:
        self.engine, self.consumer = engine, consumer

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        readings = CounterMetricFamily("gridwatch_detector_readings", "readings seen by the detectors by outcome "
                                       "(scored, late, duplicate, not_this_kind)", labels=["kind", "outcome"])
        for kind, counts in self.engine.stats().items():
            for outcome, n in counts.items():
                readings.add_metric([kind, outcome], n)
        alerts = CounterMetricFamily("gridwatch_detector_alerts", "alert transitions emitted",
                                     labels=["rule", "state", "severity"])
        for (rule, state, sev), n in sorted(self.engine.emitted.items()):
            alerts.add_metric([rule, state, sev], n)
        yield readings
        yield alerts
        yield GaugeMetricFamily("gridwatch_detector_state_bytes", "memory held by detector state",
                                value=self.engine.state_bytes())
        if self.consumer is not None:
            yield GaugeMetricFamily("gridwatch_detector_queued_readings", "readings waiting for the detectors",
                                    value=self.consumer._queued)
            yield CounterMetricFamily("gridwatch_detector_errors", "batches the detectors failed on (logged)",
                                      value=self.consumer.errors)
