"""River gauge: water level driven by rainfall, with a realistic rise and recession.

Based on the unit-hydrograph method (Sherman 1932; Nash 1957): a small catchment
turns rain into stage through a gamma-shaped response, here the two-reservoir Nash
cascade h(τ) = τ/k² · e^(-τ/k), so the level rises for about ``k`` hours after rain
starts and recedes over several ``k`` afterwards. The response to a block of steady
rain has a closed form, so a level is a pure function of time (no state). Gauges
further down a town's river (sorted by longitude, west to east as the Yangtze runs)
respond later and slower. Base stage sits 2-3 m below the gauge's ``warning_level``
(from ``devices.csv``); heavy rain of 20-40 mm/h for a few hours lifts small Chongqing
rivers by 2-5 m (2020 Qijiang and Jialing floods).

>>> import numpy as np
>>> from core.city import load_city
>>> f = Fleet.of(load_city("tests/data/city-small"), "river_gauge", 1, [Storm(0, 7200, 30.0)]); prepare(f)
>>> lv = values(f, np.zeros(3, np.int64), np.array([-60.0, 3 * 3600, 24 * 3600]))["level"]
>>> bool(lv[1] > lv[0] + 1.0 and lv[2] < lv[1])
True
"""

from __future__ import annotations

import numpy as np

from simulators.signals.fleet import Fleet, Storm
from simulators.signals.noise import normal, uniform


def prepare(f: Fleet) -> None:
    slot = f.slots
    warning = f.param("warning_level", 5.0)
    f.p["base"] = np.maximum(warning - 2.3 - 0.5 * uniform(f.seed, 41, slot), 0.3)
    f.p["gain"] = 0.11 + 0.04 * uniform(f.seed, 42, slot)  # m of rise per mm/h of steady rain
    devices, grids = f.city.devices, f.city.grids
    town = grids.town[devices.grid[slot]] if len(slot) else np.empty(0, object)
    f.p["town"] = town
    rank = np.zeros(len(slot))
    for tw in set(town.tolist()):
        members = np.flatnonzero(town == tw)
        rank[members[np.argsort(devices.lon[slot[members]], kind="stable")]] = np.arange(len(members))
    f.p["lag_s"] = rank * 180.0  # 3 min further down the river per gauge
    f.p["k_s"] = 3600.0 * (1.2 + 0.04 * rank)


def _cum(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Integral of the unit response over [0, x]: 1 - (1 + x/k) e^(-x/k), 0 for x <= 0."""
    y = np.clip(x, 0.0, None) / k
    return 1.0 - (1.0 + y) * np.exp(-y)


def _storm_on(f: Fleet, storm: Storm, i: np.ndarray) -> np.ndarray:
    if not storm.towns:
        return np.ones(len(i), bool)
    return np.isin(f.p["town"][i], np.array(storm.towns, dtype=object))


def rain_rate(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """mm/h falling at each gauge at time t."""
    rate = np.zeros(len(t))
    for s in f.storms:
        during = (t >= s.start_s) & (t < s.start_s + s.duration_s) & _storm_on(f, s, i)
        rate += np.where(during, s.rate_mm_h, 0.0)
    return rate


def level(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Stage in m above gauge datum, noise-free."""
    k, lag = f.p["k_s"][i], f.p["lag_s"][i]
    rise = np.zeros(len(t))
    for s in f.storms:
        x = t - s.start_s - lag
        rise += np.where(_storm_on(f, s, i), s.rate_mm_h * (_cum(x, k) - _cum(x - s.duration_s, k)), 0.0)
    return f.p["base"][i] + f.p["gain"][i] * rise


def values(f: Fleet, i: np.ndarray, t: np.ndarray, interval_s: float = 60.0) -> dict[str, np.ndarray]:
    step = np.round(t)
    wiggle = 0.004 * normal(f.seed, 43, f.slots[i], step)
    rain = rain_rate(f, i, t) * interval_s / 3600.0 * (0.7 + 0.6 * uniform(f.seed, 44, f.slots[i], step))
    return {"level": np.round(level(f, i, t) + wiggle, 3), "rain": np.round(rain, 2)}
