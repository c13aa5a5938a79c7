"""Meters: the meter's own week, stop to zero, counter resets, the isolation forest."""

from __future__ import annotations

import re

import numpy as np

from core.severity import Severity
from detectors.config import DetectorConfig
from tests.detectors.support import every, feed, fired, make

STEP = 900  # a reading every 15 min


def factory_week(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Weekdays 08-18 h at 100 kW, else 20 kW (weekends 15 kW), 4 % noise; Asia/Shanghai time."""
    ts = every(STEP, n)
    local_h = (ts // 1000 + 8 * 3600) // 3600
    hour, weekday = local_h % 24, ((local_h // 24) + 3) % 7
    load = np.where(weekday >= 5, 15.0, np.where((hour >= 8) & (hour < 18), 100.0, 20.0))
    return ts, load * (1 + np.random.default_rng(seed).normal(0, 0.04, n))


def weeks(k: float) -> int:
    return int(k * 7 * 86400 / STEP)


def test_three_quiet_weeks_raise_nothing_and_a_stop_is_yellow():
    ts, p = factory_week(weeks(3.5))
    _, tr = feed(make("meter", "profile"), ts[: weeks(3)], {"power_kw": p[: weeks(3)]})
    assert not fired(tr)
    day = [i for i in range(weeks(3), len(ts)) if p[i] > 95 and (ts[i] // 1000 + 8 * 3600) // 3600 % 24 == 9]
    i = day[0]
    p[i : i + 8] = 0.0  # two hours stopped on a working morning
    pipe = make("meter", "profile")
    _, tr = feed(pipe, ts[: i + 8], {"power_kw": p[: i + 8]})
    stop = fired(tr, "meter.stop")
    assert stop and stop[0].severity == int(Severity.YELLOW)
    assert re.search(r"power stopped: 0.0 kW for .*, usually (9\d|10\d) kW on Fri 09:00", stop[0].reason)


def test_load_far_above_the_hour_of_week_level_is_flagged():
    ts, p = factory_week(weeks(3) + 80)
    night = [i for i in range(weeks(3), len(ts)) if p[i] < 30]
    p[night[0] : night[0] + 6] = 100.0  # daytime load at night
    _, tr = feed(make("meter", "profile"), ts, {"power_kw": p})
    assert fired(tr, "meter.profile", int(Severity.YELLOW))


def test_counter_reset_is_blue_and_clears_on_the_next_reading():
    e = np.r_[np.arange(10) * 5.0 + 1000, np.arange(5) * 5.0]
    _, tr = feed(make("meter", "counter"), every(STEP, len(e)), {"energy_kwh": e})
    assert [(t.firing, t.severity) for t in tr] == [(True, int(Severity.BLUE)), (False, int(Severity.BLUE))]
    assert "went back from 1045.0 to 0.0 kWh" in tr[0].reason


def test_isolation_forest_is_refit_off_the_hot_path_and_scores_odd_readings_higher():
    cfg = DetectorConfig()
    forest = cfg.meter.iforest.model_copy(update={"min_fit_samples": 100, "refit_every_samples": 10_000,
                                                  "n_estimators": 50, "background": False})
    cfg = cfg.model_copy(update={"meter": cfg.meter.model_copy(update={"iforest": forest})})
    pipe = make("meter", "iforest", cfg)
    det = pipe.detectors[0]
    ts, p = factory_week(weeks(2))
    feed(pipe, ts, {"power_kw": p})
    assert det.table is None and det.refit_due()  # scoring never fits by itself
    assert det.refit() and det.table is not None
    later = every(STEP, 3, int(ts[-1]) + STEP * 1000)
    normal, _ = feed(pipe, later, {"power_kw": np.full(3, float(p[-1]))})
    odd, _ = feed(pipe, later + 3 * STEP * 1000, {"power_kw": np.array([900.0, 0.0, 900.0])})
    assert odd.max() > normal.max()


def test_a_30_s_meter_stopping_after_hours_is_yellow_its_profile_does_not_learn_the_stop_in_minutes():
    """Found by benchmarks/detector_quality_sim.py (mt-000149, a 30 s meter): the hour-of-week level
    learned at 0.2 per *reading*, so thirty zero readings took it from 24 kW below the 5 kW a meter
    must usually draw to 'stop', and the 15-minute stop rule never fired. Learning is now paced
    per 15 minutes of readings, whatever the meter's interval."""
    cfg = DetectorConfig()
    one_week = cfg.meter.profile.model_copy(update={"warmup_weeks": 1})  # keeps the test short
    cfg = cfg.model_copy(update={"meter": cfg.meter.model_copy(update={"profile": one_week})})
    n = 8 * 2880 + 1440  # 8 days and 12 hours from 08:00, a reading every 30 s
    ts = every(30, n)
    local_h = (ts // 1000 + 8 * 3600) // 3600 % 24
    p = np.where((local_h >= 8) & (local_h < 18), 100.0, 24.0) * (1 + np.random.default_rng(3).normal(0, 0.1, n))
    at = next(i for i in range(8 * 2880, n) if local_h[i] == 18)  # 18:00, the 24 kW evening base
    p[at:] = 0.02
    _, tr = feed(make("meter", "profile", cfg), ts, {"power_kw": p})
    stop = fired(tr, "meter.stop")
    assert stop and (stop[0].at_ms - ts[at]) / 60_000 <= 16
    assert re.search(r"usually 2\d kW", stop[0].reason)


def ramped_office(days: int, step: int = 30, seed: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """20 kW at night, 100 kW 08-17 h, ramping linearly 07-08 h and 17-18 h (as the simulators' meters)."""
    ts = every(step, days * 86400 // step)
    h = ((ts // 1000 + 8 * 3600) % 86400) / 3600
    load = 20 + 80 * np.clip(np.minimum(h - 7, 18 - h), 0, 1)
    return ts, load * (1 + np.random.default_rng(seed).normal(0, 0.04, len(ts)))


def test_a_shift_ramping_up_inside_an_hour_is_not_far_from_the_week():
    """Found by benchmarks/detector_quality_sim.py once the profile stopped learning within minutes:
    a 30 s meter ramping from night base to full load between 07:00 and 08:00 read 56 kW at 07:46
    against an hour level of 27 kW (24x its spread), yellow every morning. The level of the nearer
    neighbouring hour bounds what is usual too."""
    cfg = DetectorConfig()
    one_week = cfg.meter.profile.model_copy(update={"warmup_weeks": 1})
    cfg = cfg.model_copy(update={"meter": cfg.meter.model_copy(update={"profile": one_week})})
    ts, p = ramped_office(10)
    _, tr = feed(make("meter", "profile", cfg), ts, {"power_kw": p})
    assert not fired(tr)
