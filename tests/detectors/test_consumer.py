"""The service adapter: inline scoring of accepted batches, a ticker thread, scrape-time metrics."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.batch import ReadingBatch
from core.clock import ManualClock
from core.metrics import new_registry, render
from detectors.consumer import DetectorConsumer
from detectors.engine import DetectorEngine
from tests.detectors.support import T0


def test_consumer_forwards_red_and_ticks_silence_on_its_own_thread(small_city):
    clock = ManualClock(T0 / 1000)
    got: list = []
    consumer = DetectorConsumer(DetectorEngine(small_city, clock=clock), got.extend, clock, new_registry(), 0.01)
    slot = small_city.devices.slot("wb-0003")
    hr = np.r_[75 + np.random.default_rng(0).normal(0, 2, 60), np.full(8, 35.0)]
    ts = T0 + np.arange(68) * 10_000
    consumer.consume(ReadingBatch("wearable", np.full(68, slot), ts, {"heart_rate": hr}))
    assert [(e.device_id, str(e.severity)) for e in got if e.rule == "wearable.hr_drop"] == [("wb-0003", "red")]
    clock.set((ts[-1] + 31 * 60_000) / 1000)
    consumer.start()
    try:
        deadline = time.monotonic() + 5
        while not any(e.rule == "wearable.no_signal" for e in got) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        consumer.stop()
    assert any(e.rule == "wearable.no_signal" and e.device_id == "wb-0003" for e in got)
    text = render(consumer.registry).decode()
    assert 'gridwatch_detector_readings_total{kind="wearable",outcome="scored"} 68.0' in text
    assert 'gridwatch_detector_alerts_total{rule="wearable.hr_drop",severity="red",state="firing"} 1.0' in text


def test_started_consumer_gathers_a_backlog_into_one_call_and_stop_scores_what_is_queued(small_city):
    """Readings one per message: while the scorer is busy the next batches gather, so the detectors'
    fixed cost is paid per backlog; stopping scores everything queued before it returns."""
    clock = ManualClock(T0 / 1000)
    got: list = []
    engine = DetectorEngine(small_city, clock=clock)
    consumer = DetectorConsumer(engine, got.extend, clock, new_registry(), tick_s=60)
    calls: list[int] = []
    process = engine.process
    engine.process = lambda batch: (calls.append(len(batch)), process(batch))[1]
    slot = small_city.devices.slot("wb-0003")
    hr = np.r_[75 + np.random.default_rng(0).normal(0, 2, 60), np.full(8, 35.0)]
    consumer.start()
    try:
        with engine._lock:  # the scorer is busy (it blocks on its first batch) while 67 more arrive
            for i in range(68):
                consumer.consume(ReadingBatch("wearable", np.array([slot]), np.array([T0 + i * 10_000]),
                                              {"heart_rate": hr[i:i + 1]}))
        assert consumer.drain(10)
        assert sum(calls) == 68 and len(calls) <= 3, calls
        assert [(e.device_id, str(e.severity)) for e in got if e.rule == "wearable.hr_drop"] == [("wb-0003", "red")]
        for i in range(5):  # queued, then stop at once: scored all the same
            consumer.consume(ReadingBatch("wearable", np.array([slot]), np.array([T0 + (68 + i) * 10_000]),
                                          {"heart_rate": np.array([36.0])}))
    finally:
        consumer.stop()
    assert sum(calls) == 73


def test_a_scorer_too_far_behind_holds_the_pipeline_back_and_a_failing_batch_is_counted(small_city):
    """Past ``max_queued`` readings ``consume`` waits (the broker keeps the rest); a batch the
    detectors fail on is logged and counted, and the next batches are still scored."""
    clock = ManualClock(T0 / 1000)
    engine = DetectorEngine(small_city, clock=clock)
    consumer = DetectorConsumer(engine, lambda events: None, clock, new_registry(), tick_s=60, max_queued=1)
    slot = small_city.devices.slot("wb-0003")
    process, scored = engine.process, []

    def flaky(batch):
        if batch.ts[0] == T0 + 10_000:  # the second batch
            raise RuntimeError("a detector bug")
        scored.append(len(batch))
        return process(batch)

    engine.process = flaky

    def one(i: int) -> ReadingBatch:
        return ReadingBatch("wearable", np.array([slot]), np.array([T0 + i * 10_000]), {"heart_rate": np.array([70.0])})

    consumer.start()
    try:
        with engine._lock:
            consumer.consume(one(0))  # taken by the scorer, which then waits for the lock
            assert consumer.drain(0.2) is False
            consumer.consume(one(1))  # queued: the queue is now full
            third = threading.Thread(target=consumer.consume, args=(one(2),))
            third.start()
            third.join(0.3)
            assert third.is_alive()  # held back while the scorer is behind
        third.join(5)
        assert consumer.drain(5)
    finally:
        consumer.stop()
    assert consumer.errors == 1 and sum(scored) == 2
    assert "gridwatch_detector_errors_total 1.0" in render(consumer.registry).decode()
