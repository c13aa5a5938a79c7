"""Drive a ``World`` on a simulated clock: publish each step's readings, let workers act.

Simulated time runs ``speed`` times faster than the wall clock. Each step publishes
the readings reported since the previous one (windows of any length give the same
readings, see ``simulators.signals``), moves the ``ManualClock`` and ticks the
simulated workers. After a finite scenario ends, the workers get ``linger_s`` more
simulated seconds to finish what they started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.clock import ManualClock
from simulators.publisher import Publisher
from simulators.workers import WorkerSim
from simulators.world import World

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    readings: int = 0
    messages: int = 0
    steps: int = 0
    sim_s: float = 0.0


class Runner:
    def __init__(self, world: World, publisher: Publisher | None, workers: WorkerSim | None = None,
                 speed: float = 1.0, step_s: float = 1.0, clock: ManualClock | None = None) -> None:
        self.world, self.publisher, self.workers = world, publisher, workers
        self.speed, self.step_s = speed, step_s
        self.clock = clock or ManualClock(world.start_s)
        self.stats = RunStats()
        self.sim_now = world.start_s

    def _advance(self, target: float) -> None:
        if target > self.sim_now and target <= self.world.end_s:
            batches = self.world.window(self.sim_now, target)
            if self.publisher is not None and batches:
                self.stats.messages += self.publisher.publish(batches, self.world.city)
            self.stats.readings += sum(len(b) for b in batches)
        self.sim_now = max(self.sim_now, target)
        self.clock.set(self.sim_now)
        if self.workers is not None:
            self.workers.tick(self.sim_now)
        self.stats.steps += 1
        self.stats.sim_s = self.sim_now - self.world.start_s

    def warm_up(self, seconds: float, chunk_s: float = 300.0) -> None:
        """Publish the ``seconds`` of history before the start at once, so detectors have baselines."""
        a = self.world.start_s - seconds
        while a < self.world.start_s and self.publisher is not None:
            b = min(a + chunk_s, self.world.start_s)
            batches = self.world.window(a, b)
            self.stats.messages += self.publisher.publish(batches, self.world.city)
            self.stats.readings += sum(len(x) for x in batches)
            a = b

    def run(self, stop: threading.Event | None = None, linger_s: float = 600.0,
            on_step: Callable[[Runner], None] | None = None) -> RunStats:
        """Run until the scenario ends (plus ``linger_s`` while workers are busy) or ``stop`` is set."""
        stop = stop or threading.Event()
        self.warm_up(self.world.warmup_s())
        real0, sim0 = time.monotonic(), self.world.start_s
        end = self.world.end_s
        while not stop.is_set():
            target = sim0 + (time.monotonic() - real0) * self.speed
            if target - self.sim_now >= self.step_s or target >= end:
                self._advance(min(target, end) if self.sim_now < end else target)
                if on_step:
                    on_step(self)
            if self.sim_now >= end and (self.workers is None or not self.workers.plan
                                        or self.sim_now >= end + linger_s):
                break
            stop.wait(min(0.2, self.step_s / self.speed))
        if self.publisher is not None:
            self.publisher.flush()
        return self.stats
