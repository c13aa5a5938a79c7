"""Smoke sensor: clean-air obscuration, room temperature, CO, and cooking blips.

Based on:
- clean-air readings of photoelectric detectors: ~0.0-0.1 %/m obscuration; alarm
  thresholds are 1.6-13 %/m (UL 217 gives 0.5-4 %/ft), so background sits far below;
- nuisance sources: cooking raises obscuration to ~0.5-1.5 %/m near kitchens for a few
  minutes at meal times (NIST TN 1455 nuisance-alarm studies), with a small CO and
  heat bump;
- indoor temperature 18-26 °C with a daily swing of a few degrees; background CO 0-3 ppm
  (WHO indoor air guidelines).

>>> import numpy as np
>>> from core.city import load_city
>>> f = Fleet.of(load_city("tests/data/city-small"), "smoke", seed=1); prepare(f)
>>> v = values(f, np.zeros(2, np.int64), np.array([0.0, 60.0]) + 1_732_233_600)
>>> bool(np.all(v["smoke"] < 0.3))
True
"""

from __future__ import annotations

import numpy as np

from simulators.signals.fleet import Fleet
from simulators.signals.noise import local_hours, normal, uniform

MEALS_H = (7.0, 11.75, 18.25)  # local meal times
BLIP_S = 420.0


def prepare(f: Fleet) -> None:
    slot = f.slots
    f.p["kitchen"] = (uniform(f.seed, 21, slot) < 0.3).astype(np.float64)
    f.p["room_c"] = 21.5 + 1.5 * normal(f.seed, 22, slot)
    f.p["battery"] = 60.0 + 40.0 * uniform(f.seed, 23, slot)


def cooking(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """0..1 cooking-smoke shape: 2-min rise, a hold, slow clear, on some days at some meals."""
    day = np.floor((t / 3600.0 + 8.0) / 24.0)
    h = local_hours(t)
    out = np.zeros(len(t))
    for m, meal in enumerate(MEALS_H):
        start_h = meal + 0.25 * uniform(f.seed, 24 + m, f.slots[i], day)
        x = (h - start_h) * 3600.0
        on = (uniform(f.seed, 30 + m, f.slots[i], day) < 0.35) & (x >= 0) & (x < BLIP_S)
        shape = np.minimum(np.clip(x / 120.0, 0, 1), np.clip((BLIP_S - x) / 180.0, 0, 1))
        out = np.maximum(out, np.where(on, shape, 0.0))
    return out * f.p["kitchen"][i]


def values(f: Fleet, i: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    slot, step = f.slots[i], np.round(t)
    blip = cooking(f, i, t)
    peak = 0.6 + 0.8 * uniform(f.seed, 35, slot, np.floor(t / 86400.0))
    smoke = 0.04 + np.abs(0.015 * normal(f.seed, 36, slot, step)) + peak * blip
    temp = f.p["room_c"][i] + 1.5 * np.cos(2 * np.pi * (local_hours(t) - 15.0) / 24.0) + 2.0 * blip
    co = 1.0 + np.abs(0.5 * normal(f.seed, 37, slot, step)) + 12.0 * blip
    battery = f.p["battery"][i] - (t / 86400.0 % 365) * 0.05
    return {
        "smoke": np.round(smoke, 3),
        "temperature": np.round(temp + 0.1 * normal(f.seed, 38, slot, step), 1),
        "co": np.round(co, 1),
        "battery": np.round(np.clip(battery, 5, 100)),
    }
