"""DetectorEngine: batches of the whole city in, AlertEvents a grid worker can act on out."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.batch import ReadingBatch
from core.clock import ManualClock
from core.severity import Severity
from detectors.config import DetectorConfig
from detectors.engine import DetectorEngine
from tests.detectors.support import T0


def wear(city, ts: np.ndarray, hr: np.ndarray, device: str = "wb-0001") -> ReadingBatch:
    slot = city.devices.slot(device)
    n = len(ts)
    return ReadingBatch("wearable", np.full(n, slot), np.asarray(ts, np.int64),
                        {"heart_rate": np.asarray(hr, float), "spo2": np.full(n, 97.0), "fall": np.zeros(n)})


@pytest.fixture
def engine(small_city):
    eng = DetectorEngine(small_city, clock=ManualClock(1_732_240_000.0))
    yield eng
    eng.close()


def test_heart_rate_drop_batch_gives_red_event_with_reason_place_and_times(engine, small_city):
    rng = np.random.default_rng(0)
    ts = T0 + np.arange(240) * 10_000
    assert engine.process(wear(small_city, ts[:180], 75 + rng.normal(0, 2, 180))) == []
    events = engine.process(wear(small_city, ts[180:], np.full(60, 36.0)))
    red = [e for e in events if e.rule == "wearable.hr_drop" and e.state == "firing"]
    assert red and red[-1].severity == Severity.RED
    e = red[-1]
    assert e.device_id == "wb-0001" and e.grid_id == "g-001" and e.kind == "wearable"
    assert (e.lat, e.lon) == (29.5632, 106.5519)
    assert re.fullmatch(r"heart rate 36 bpm, 5\d% below this wearer's usual 7\d for the last \d+ s", e.reason)
    assert e.detected_ms == 1_732_240_000_000 and ts[180] <= e.started_ms <= e.at_ms <= ts[180] + 60_000
    back = engine.process(wear(small_city, T0 + 2_400_000 + np.arange(20) * 10_000, np.full(20, 75.0)))
    assert any(b.rule == "wearable.hr_drop" and b.state == "resolved" for b in back)


def test_late_duplicate_and_foreign_rows_are_counted_not_scored(engine, small_city):
    ts = T0 + np.arange(5) * 10_000
    engine.process(wear(small_city, ts, np.full(5, 72.0)))
    engine.process(wear(small_city, np.r_[ts[1], ts[4], ts[4] + 10_000], np.full(3, 72.0)))
    smoke_slot = small_city.devices.slot("sm-0001")
    engine.process(ReadingBatch("wearable", np.array([smoke_slot]), np.array([T0]), {"heart_rate": np.array([70.0])}))
    s = engine.stats()["wearable"]
    assert (s["scored"], s["late"], s["duplicate"], s["not_this_kind"]) == (6, 1, 1, 1)


def test_readings_of_many_devices_out_of_order_in_one_batch(engine, small_city):
    slots = small_city.devices.slots(["wb-0001", "wb-0002"])
    ts = T0 + np.arange(200) * 10_000
    dev = np.repeat(slots, 200)
    t = np.r_[ts, ts]
    hr = np.r_[np.full(200, 70.0), np.r_[np.full(150, 80.0), np.full(50, 38.0)]]
    order = np.random.default_rng(3).permutation(400)
    events = engine.process(ReadingBatch("wearable", dev[order], t[order], {"heart_rate": hr[order]}))
    assert {e.device_id for e in events if e.severity == Severity.RED} == {"wb-0002"}


def test_band_silence_by_tick_and_night_rules_in_local_time(engine, small_city):
    engine.process(wear(small_city, np.array([T0]), np.array([72.0])))  # 08:00 in Shanghai
    assert engine.tick(T0 + 20 * 60_000) == []
    ev = engine.tick(T0 + 31 * 60_000)
    assert [(e.rule, e.severity) for e in ev] == [("wearable.no_signal", Severity.YELLOW)]
    assert engine.is_night(T0 + 15 * 3_600_000) and not engine.is_night(T0)  # 23:00 vs 08:00 local


def test_reload_keeps_state_and_river_levels_come_from_devices_csv(engine, small_city):
    slot = small_city.devices.slot("rg-0001")
    ts = T0 + np.arange(20) * 300_000
    level = np.r_[np.full(15, 3.0), np.full(5, 4.6)]
    engine.reload(DetectorConfig(flap_window_s=60))
    ev = engine.process(ReadingBatch("river_gauge", np.full(20, slot), ts, {"level": level}))
    lv = [e for e in ev if e.rule == "river_gauge.level"]
    assert lv and "warning level 4.50 m" in lv[0].reason and lv[0].severity == Severity.ORANGE
    before = engine.pipelines["wearable"].detectors[0]
    engine.reload(DetectorConfig())
    assert engine.pipelines["wearable"].detectors[0] is before


def test_state_fits_a_kilobyte_per_device(small_city):
    engine = DetectorEngine(small_city, clock=ManualClock())
    per_device = engine.bytes_per_device()
    assert set(per_device) == {"wearable", "smoke", "river_gauge", "meter"}
    assert all(0 < b <= 1024 for b in per_device.values()), per_device
    assert engine.state_bytes() > 0
