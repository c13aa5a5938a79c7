"""DetectorEngine: the detectors of every kind for one city, as a batch consumer.

The composition root calls ``process`` for every accepted ``ReadingBatch`` on the
pipeline thread and ``tick`` about once a second; both return ``AlertEvent``
transitions (firing, severity raised while firing, resolved) for the alerts package.
They may be called from different threads: a lock keeps them one at a time.
City device slots are mapped once to kind-local slots, so each detector's state is a
dense array over the devices of its kind.

>>> from core.city import load_city
>>> from core.clock import ManualClock
>>> from core.batch import ReadingBatch
>>> city = load_city("tests/data/city-small")
>>> engine = DetectorEngine(city, clock=ManualClock())
>>> slot = city.devices.slot("wb-0001")
>>> b = ReadingBatch("wearable", np.array([slot]), np.array([1_732_233_600_000]), {"heart_rate": np.array([72.0])})
>>> engine.process(b)
[]
>>> engine.stats()["wearable"]["scored"]
1
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np

from core.alert import AlertEvent
from core.batch import ReadingBatch
from core.city import City
from core.clock import Clock, SystemClock
from core.kinds import KINDS, kind_code
from core.severity import Severity
from detectors.config import DetectorConfig, load_detector_config
from detectors.iforest import IForest
from detectors.pipeline import KindPipeline, Transition, night_checker
from detectors.registry import build_kind, det_kind, reconfigure

log = logging.getLogger(__name__)


class DetectorEngine:
    """Score every batch with its kind's detectors and turn rule transitions into AlertEvents."""

    def __init__(self, city: City, config: DetectorConfig | None = None, clock: Clock | None = None) -> None:
        self.city = city
        self.config = config or load_detector_config()
        self.clock = clock or SystemClock()
        self.tz = ZoneInfo(self.config.timezone)
        self.local = np.full(len(city.devices), -1, np.int32)  # city slot -> slot within its kind
        self.members: dict[str, np.ndarray] = {}  # kind -> kind-local slot -> city slot
        self.pipelines: dict[str, KindPipeline] = {}
        self.unknown_kind = 0
        self.emitted: Counter[tuple[str, str, str]] = Counter()  # (rule, state, severity) -> events
        self._lock = threading.RLock()
        self._refit_thread: threading.Thread | None = None
        self._stop = threading.Event()
        for kind in KINDS:
            self._add_kind(kind)

    def _add_kind(self, kind: str) -> None:
        members = np.flatnonzero(self.city.devices.kind == kind_code(kind))
        self.local[members] = np.arange(len(members))
        self.members[kind] = members
        pipe = KindPipeline(kind, build_kind(kind, self.config), self.tz)
        self._attach(pipe.detectors, members)
        pipe.grow(len(members))
        self.pipelines[kind] = pipe

    def _attach(self, detectors: list, members: np.ndarray) -> None:
        """Give detectors their per-device parameters from devices.csv (numeric extra columns)."""
        params = self.city.devices.params
        for det in detectors:
            for name, col in params.items():
                if name in type(det.cfg).model_fields:
                    det.params[name] = col[members].astype(np.float32)

    # ------------------------------------------------------------------ hot path

    def process(self, batch: ReadingBatch) -> list[AlertEvent]:
        """Score then learn every reading of ``batch``; return the alert transitions it caused."""
        with self._lock:
            return self._process(batch)

    def _process(self, batch: ReadingBatch) -> list[AlertEvent]:
        pipe = self.pipelines.get(batch.kind)
        if pipe is None:
            self.unknown_kind += len(batch)
            return []
        dev = np.clip(batch.device, 0, max(len(self.local) - 1, 0))
        local = self.local[dev].astype(np.int64)
        ok = (batch.device == dev) & (self.city.devices.kind[dev] == kind_code(batch.kind))
        if not ok.all():
            pipe.counts["not_this_kind"] += int(np.count_nonzero(~ok))
            local, ts = local[ok], batch.ts[ok]
            values = {k: v[ok] for k, v in batch.values.items()}
        else:
            ts, values = batch.ts, batch.values
        transitions, _ = pipe.run(local, np.asarray(ts, np.int64), values)
        self._maybe_refit(pipe)
        return self._events(batch.kind, transitions)

    def tick(self, now_ms: int) -> list[AlertEvent]:
        """Time-driven rules (a band gone silent) at ``now_ms``, about once a second."""
        night = self.is_night(now_ms)
        events: list[AlertEvent] = []
        with self._lock:
            for kind, pipe in self.pipelines.items():
                events += self._events(kind, pipe.tick(now_ms, night))
        return events

    def is_night(self, now_ms: int) -> bool:
        """Local night by the configured time zone and hours (22:00-06:00 by default)."""
        return night_checker(self.tz, self.config.night_start_hour, self.config.night_end_hour)(now_ms)

    def _events(self, kind: str, transitions: list[Transition]) -> list[AlertEvent]:
        if not transitions:
            return []
        devices, members, now = self.city.devices, self.members[kind], self.clock.now_ms()
        out = []
        for tr in transitions:
            g = int(members[tr.slot])
            out.append(AlertEvent(
                device_id=str(devices.ids[g]), kind=kind, grid_id=self.city.device_grid_id(g), rule=tr.rule,
                state="firing" if tr.firing else "resolved", severity=Severity(max(tr.severity, 1)),
                reason=tr.reason, value=tr.value, started_ms=tr.started_ms, at_ms=tr.at_ms, detected_ms=now,
                lat=float(devices.lat[g]), lon=float(devices.lon[g]),
            ))
            self.emitted[(tr.rule, out[-1].state, str(out[-1].severity))] += 1
        return out

    # ------------------------------------------------------------------ lifecycle

    def reload(self, config: DetectorConfig) -> None:
        """New parameters and detector lists; detectors that stay keep their state."""
        with self._lock:
            self._reload(config)
        log.info("detector configuration reloaded")

    def _reload(self, config: DetectorConfig) -> None:
        for kind, pipe in self.pipelines.items():
            wanted = build_kind(kind, config)
            have = {(det_kind(d), d.name, d.fields): d for d in pipe.detectors}
            kept = []
            for fresh in wanted:
                old = have.get((det_kind(fresh), fresh.name, fresh.fields))
                if old is not None:
                    reconfigure(old, config)
                    kept.append(old)
                else:
                    self._attach([fresh], self.members[kind])
                    kept.append(fresh)
            pipe.set_detectors(kept)
        self.config, self.tz = config, ZoneInfo(config.timezone)
        for pipe in self.pipelines.values():
            pipe.tz = self.tz

    def state_bytes(self) -> int:
        """Memory held by detector and alert state (for the benchmark)."""
        return sum(p.nbytes for p in self.pipelines.values()) + self.local.nbytes

    def bytes_per_device(self) -> dict[str, float]:
        """Per kind: state bytes per device, shared models excluded (the ≤ 1 KB budget)."""
        out = {}
        for kind, pipe in self.pipelines.items():
            n = max(len(self.members[kind]), 1)
            shared = sum(d.shared_nbytes for d in pipe.detectors)
            out[kind] = (pipe.nbytes - shared) / n + self.local.itemsize
        return out

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters per kind: ``scored``, ``late``, ``duplicate``, ``not_this_kind``."""
        return {k: dict(p.counts) for k, p in self.pipelines.items()}

    # ------------------------------------------------------------------ model refits (off the hot path)

    def _forests(self) -> list[IForest]:
        return [d for p in self.pipelines.values() for d in p.detectors if isinstance(d, IForest)]

    def refit(self) -> int:
        """Refit every model that has enough new data, on the calling thread; returns how many."""
        return sum(1 for f in self._forests() if f.refit_due() and f.refit())

    def prepare(self) -> None:
        """Import what the background refits need now, before the stream (the service calls it at start).

        The first refit would otherwise import scikit-learn in the middle of the stream:
        about a CPU-second holding the GIL, so the pipeline thread stalls meanwhile
        (measured: 1.2 CPU-s, a fifth of gridwatch's CPU in a million-reading benchmark)."""
        if any(f.cfg.background for f in self._forests()):
            import sklearn.ensemble  # noqa: F401

    def _maybe_refit(self, pipe: KindPipeline) -> None:
        forests = [d for d in pipe.detectors if isinstance(d, IForest) and d.cfg.background]
        if not forests or self._refit_thread is not None or not any(f.refit_due() for f in forests):
            return
        self._refit_thread = threading.Thread(target=self._refit_loop, name="detector-refit", daemon=True)
        self._refit_thread.start()

    def _refit_loop(self) -> None:
        while not self._stop.is_set():
            try:
                for f in self._forests():
                    if f.cfg.background and f.refit_due() and f.refit():
                        log.debug("meter isolation forest refit #%d", f.fits)
            except Exception:  # a failed fit must not kill detection; the old table stays
                log.exception("isolation forest refit failed")
            self._stop.wait(5.0)

    def close(self) -> None:
        """Stop the background refit thread, if one runs."""
        self._stop.set()
        if self._refit_thread is not None:
            self._refit_thread.join(timeout=30)
            self._refit_thread = None
