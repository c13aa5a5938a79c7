"""Plug the engine into the service: a batch consumer, a once-a-second ticker, Prometheus counters.

``DetectorConsumer`` is what the composition root registers with the ingest pipeline
(``consume(batch)`` on the pipeline thread) and starts/stops with the service; every
alert transition goes to ``submit`` (``alerts.intake.AlertIntake.submit``: never
blocks). Storage is a separate consumer, so a slow InfluxDB never delays detection.

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
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from core.alert import AlertEvent
from core.batch import ReadingBatch
from core.clock import Clock
from detectors.engine import DetectorEngine

log = logging.getLogger(__name__)


class DetectorConsumer:
    """Score every accepted batch inline; tick time-driven rules once a second on its own thread."""

    def __init__(self, engine: DetectorEngine, submit: Callable[[Sequence[AlertEvent]], None], clock: Clock,
                 registry: CollectorRegistry | None = None, tick_s: float = 1.0) -> None:
        self.engine, self.submit, self.clock, self.tick_s = engine, submit, clock, tick_s
        self.registry = registry
        if registry is not None:
            registry.register(DetectorCollector(engine))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def consume(self, batch: ReadingBatch) -> None:
        """Called on the pipeline thread for every accepted batch."""
        events = self.engine.process(batch)
        if events:
            self.submit(events)

    def tick_once(self) -> int:
        events = self.engine.tick(self.clock.now_ms())
        if events:
            self.submit(events)
        return len(events)

    def start(self) -> None:
        self.engine.prepare()
        self._thread = threading.Thread(target=self._run, name="detector-tick", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick_once()
            except Exception:  # a bug in a time rule must not stop the others next second
                log.exception("detector tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.engine.close()


class DetectorCollector(Collector):
    """Reads the engine's counters at scrape time: no cost on the hot path."""

    def __init__(self, engine: DetectorEngine) -> None:
        self.engine = engine

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
