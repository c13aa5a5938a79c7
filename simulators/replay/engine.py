"""Run readings through the detectors on simulated time, faster than real time.

Readings arrive as one list of batches per slice of time (see ``stores.slices``).
Within a slice, time advances in ticks (10 s by default): every kind's readings of
the tick are scored (``DetectorEngine.process``), then the time-driven rules run
(``DetectorEngine.tick``) and, with dispatch, the alerts package and the simulated
workers catch up to the tick. The ``ManualClock`` follows the readings, so every
``detected_ms`` and work-order time is simulated time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from core.alert import AlertEvent
from core.batch import ReadingBatch
from core.city import City
from core.clock import ManualClock
from core.kinds import KINDS


class Loop(Protocol):
    """Something that follows the alerts on simulated time (the dispatch loop)."""

    def submit(self, events: list[AlertEvent]) -> None: ...
    def advance(self, now_ms: int) -> None: ...


@dataclass
class ReplayResult:
    alerts: list[AlertEvent] = field(default_factory=list)
    readings: int = 0
    seconds: float = 0.0  # wall time of the run
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)  # watched device -> (ts, value)
    stats: dict[str, Any] = field(default_factory=dict)


def by_slice(batches: Iterable[ReadingBatch], slice_ms: int = 3_600_000) -> Iterator[list[ReadingBatch]]:
    """Regroup batches in any order (a file) into time-ordered slices, one list per slice."""
    per_kind: dict[str, list[ReadingBatch]] = {}
    for b in batches:
        if len(b):
            per_kind.setdefault(b.kind, []).append(b)
    whole = [ReadingBatch.concat(bs).sorted_by_time() for bs in per_kind.values()]
    if not whole:
        return
    lo = min(int(b.ts[0]) for b in whole)
    hi = max(int(b.ts[-1]) for b in whole) + 1
    edge = lo - lo % slice_ms
    while edge < hi:
        out = []
        for b in whole:
            i, j = np.searchsorted(b.ts, [edge, edge + slice_ms])
            if j > i:
                out.append(b.take(slice(i, j)))
        yield out
        edge += slice_ms


MAIN_FIELD = {"wearable": "heart_rate", "smoke": "smoke", "river_gauge": "level", "meter": "power_kw"}


class Replayer:
    def __init__(self, city: City, engine: Any, clock: ManualClock, loop: Loop | None = None,
                 tick_ms: int = 10_000, watch: Iterable[str] = ()) -> None:
        self.city, self.engine, self.clock, self.loop = city, engine, clock, loop
        self.tick_ms = tick_ms
        self.watch = np.zeros(len(city.devices), bool)
        for dev in watch:
            slot = city.devices.slot(dev)
            if slot >= 0:
                self.watch[slot] = True
        self.result = ReplayResult()
        self.next_tick: int | None = None

    def _emit(self, events: list[AlertEvent]) -> None:
        if events:
            self.result.alerts.extend(events)
            if self.loop is not None:
                self.loop.submit(events)

    def _record(self, b: ReadingBatch) -> None:
        m = self.watch[b.device]
        if not m.any():
            return
        col = b.column(MAIN_FIELD[b.kind])[m]
        for slot, ts, v in zip(b.device[m].tolist(), b.ts[m].tolist(), col.tolist(), strict=True):
            xs, ys = self.result.series.setdefault(str(self.city.devices.ids[slot]), ([], []))
            xs.append(ts)
            ys.append(v)

    def _tick(self, now_ms: int) -> None:
        self.clock.set(now_ms / 1000.0)
        self._emit(self.engine.tick(now_ms))
        if self.loop is not None:
            self.loop.advance(now_ms)

    def feed(self, batches: list[ReadingBatch]) -> None:
        """One slice of readings, in time order across kinds, tick by tick."""
        batches = [b.sorted_by_time() for b in batches if len(b)]
        if not batches:
            return
        lo = min(int(b.ts[0]) for b in batches)
        hi = max(int(b.ts[-1]) for b in batches)
        if self.next_tick is None:
            self.next_tick = lo - lo % self.tick_ms + self.tick_ms
        cursor = [0] * len(batches)
        while True:
            edge = self.next_tick
            for k, b in enumerate(batches):
                j = int(np.searchsorted(b.ts, edge))
                if j > cursor[k]:
                    part = b.take(slice(cursor[k], j))
                    self.clock.set(int(part.ts[-1]) / 1000.0)
                    self._emit(self.engine.process(part))
                    self._record(part)
                    self.result.readings += len(part)
                    cursor[k] = j
            if edge > hi:
                return
            self._tick(edge)
            self.next_tick = edge + self.tick_ms

    def finish(self, end_ms: int) -> None:
        """Tick on to ``end_ms`` (silences, escalations and workers still move after the last reading)."""
        while self.next_tick is not None and self.next_tick <= end_ms:
            self._tick(self.next_tick)
            self.next_tick += self.tick_ms

    def run(self, slices: Iterable[list[ReadingBatch]], start_ms: int, end_ms: int, progress: bool = True,
            linger_ms: int = 0) -> ReplayResult:
        import time

        t0 = time.perf_counter()
        total = max(end_ms - start_ms, 1) / 1000.0
        with tqdm(total=round(total), unit="sim-s", disable=not progress, leave=False) as bar:
            done = start_ms
            for sl in slices:
                self.feed(sl)
                if self.next_tick is not None:
                    now = min(self.next_tick, end_ms)
                    bar.update(max(0, round((now - done) / 1000)))
                    bar.set_postfix(readings=self.result.readings, alerts=len(self.result.alerts), refresh=False)
                    done = max(done, now)
        if self.next_tick is None:
            self.next_tick = start_ms
        self.finish(end_ms + linger_ms)
        self.result.seconds = time.perf_counter() - t0
        return self.result


__all__ = ["KINDS", "ReplayResult", "Replayer", "by_slice"]
