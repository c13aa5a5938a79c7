"""Wearable band: heart rate with a daily rhythm, walks and sleep; SpO₂; battery.

Based on:
- resting heart rate of older adults 60-80 bpm, children 70-110 (AHA; Fleming et al.,
  Lancet 2011 for children's centiles);
- circadian rhythm: a nadir around 04:00 and a peak in the afternoon, about ±4 bpm,
  with another ~5 bpm lower during sleep (Vandewalle et al., J Sleep Res 2007);
- a walk raises heart rate by 20-35 bpm within a couple of minutes (moderate activity,
  40-60 % of heart-rate reserve); older adults recover slowly afterwards (~10-15 bpm in
  the first minute, Cole et al., NEJM 1999), so the fall-back takes about five minutes;
- SpO₂ of healthy adults 95-99 %, about 1 point lower asleep (pulse-oximetry norms,
  BTS guideline 2017); wrist optical sensors add about ±1 point of noise;
- a band drains 40-50 % a day and is charged once a day.

>>> import numpy as np
>>> from core.city import load_city
>>> f = Fleet.of(load_city("tests/data/city-small"), "wearable", seed=1); prepare(f)
>>> v = values(f, np.zeros(3, np.int64), np.array([0.0, 3600.0, 7200.0]) + 1_732_233_600)
>>> bool(np.all((v["heart_rate"] > 40) & (v["heart_rate"] < 140)))
True
"""

from __future__ import annotations

import numpy as np

from simulators.signals.fleet import Fleet
from simulators.signals.noise import local_hours, normal, uniform

WALK_SLOT_S = 1800  # a walk may start in any half hour of the day
WALK_S = 900


def prepare(f: Fleet) -> None:
    age = f.param("age", 75.0)
    slot = f.slots
    child = age < 18
    rest = np.where(child, 88.0, 68.0) + np.where(child, 7.0, 5.0) * normal(f.seed, 1, slot)
    f.p["rest_hr"] = np.clip(rest, np.where(child, 72.0, 57.0), np.where(child, 105.0, 84.0))
    f.p["spo2"] = 97.5 - 0.02 * np.clip(age - 60, 0, None) + 0.5 * normal(f.seed, 2, slot)
    f.p["charge_h"] = 19.0 + 4.0 * uniform(f.seed, 3, slot)  # charged in the evening
    f.p["walk_p"] = np.where(child, 0.3, 0.12) * (0.5 + uniform(f.seed, 4, slot))


def asleep(h: np.ndarray) -> np.ndarray:
    return (h >= 23.0) | (h < 6.5)


def walking(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """0..1 walk intensity: some half hours hold a 15-minute walk (2-minute rise, 5-minute recovery)."""
    block = np.floor(t / WALK_SLOT_S).astype(np.int64)
    slot = f.slots[i]
    h = local_hours(t)
    on = (uniform(f.seed, 5, slot, block) < f.p["walk_p"][i]) & (h > 7.0) & (h < 20.0)
    start = block * WALK_SLOT_S + uniform(f.seed, 6, slot, block) * (WALK_SLOT_S - WALK_S)
    x = t - start
    ramp = np.clip(np.minimum(x / 120.0, (WALK_S - x) / 300.0), 0.0, 1.0)
    return np.where(on, ramp, 0.0)


def heart_rate(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The band's heart rate before incidents and faults (bpm, float)."""
    h = local_hours(t)
    rhythm = 4.0 * np.cos(2 * np.pi * (h - 16.0) / 24.0) - 5.0 * asleep(h)
    walk = (22.0 + 8.0 * uniform(f.seed, 7, f.slots[i], np.floor(t / WALK_SLOT_S))) * walking(f, i, t)
    noise = 1.8 * np.clip(normal(f.seed, 8, f.slots[i], np.round(t)), -3.0, 3.0)
    return f.p["rest_hr"][i] + rhythm + walk + noise


def values(f: Fleet, i: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    slot, step = f.slots[i], np.round(t)
    h = local_hours(t)
    spo2 = f.p["spo2"][i] - 0.8 * asleep(h) + 0.7 * normal(f.seed, 9, slot, step)
    since_charge = (h - f.p["charge_h"][i]) % 24.0
    battery = 100.0 - 45.0 * since_charge / 24.0
    return {
        "heart_rate": np.round(heart_rate(f, i, t)),
        "spo2": np.clip(np.round(spo2), 70, 100),
        "fall": np.zeros(len(t)),
        "battery": np.round(battery),
    }
