"""River gauge detectors: warning and guarantee levels, projected time to warning, rate of rise, stuck gauge.

Chinese flood practice sets two levels per gauge: the **warning level** (警戒水位),
where dikes need patrols, and the **guarantee level** (保证水位), the highest level
the works are designed to hold (Ministry of Water Resources, *Standard for
Hydrological Information and Forecasting*, SL 250). Each gauge's levels come from
``devices.csv`` (``warning_level``, ``guarantee_level``).

The trend is Holt's linear smoothing on irregular time steps, fed with the median of
the last three readings so that an isolated spike never reaches it (a steady rise
passes with one reading of delay): the projection ``(warning - level) / slope``
warns while there is still time to act.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.base import (
    BLUE,
    ORANGE,
    RED,
    YELLOW,
    Detector,
    Output,
    Round,
    StateSpec,
    duration_words,
    ewma_alpha,
    median3,
    pick,
)

RULE_LEVEL, RULE_PROJECTED, RULE_RISE = range(3)


class Level(Detector):
    """Rules ``river.level`` (orange at warning, red at guarantee), ``river.projected``, ``river.rise_rate``."""

    name, kind = "level", "river_gauge"
    fields = ("level",)

    STATE: ClassVar[StateSpec] = {
        "lvl": (np.float32, np.nan), "slope": (np.float32, 0.0), "raw1": (np.float32, np.nan),
        "raw2": (np.float32, np.nan), "last_t": (np.float64, np.nan), "n": (np.uint16, 0),
    }

    def step(self, rnd: Round) -> Output:
        c, slot = self.cfg, rnd.slot
        x = rnd.cols["level"]
        has = ~np.isnan(x)
        ready = has & (self.state.n[slot] >= c.warmup_readings)
        lvl, slope_h = self._learn(rnd, x, has)
        warn = self.param("warning_level", slot, c.warning_level)
        guar = self.param("guarantee_level", slot, c.guarantee_level)
        xr = np.where(ready, x, np.nan)
        rising = ready & (slope_h >= c.min_rise_m_per_h)
        eta_s = np.where(rising, (warn - lvl) / np.where(rising, slope_h, 1.0) * 3600.0, np.inf)
        below = xr < warn
        n = len(rnd)
        lv = [
            pick([(xr >= warn, ORANGE), (xr >= guar, RED)], n, has),
            pick([(below & (eta_s <= c.lead_s), YELLOW)], n, has),
            pick([(ready & (slope_h >= c.fast_rise_m_per_h), BLUE)], n, has),
        ]
        hold = [xr >= warn - c.hysteresis_m, (xr >= warn) | (rising & (eta_s <= 2 * c.lead_s)),
                ready & (slope_h >= c.fast_rise_m_per_h / 2)]
        span = np.where(np.isnan(guar - warn), 1.0, np.maximum(guar - warn, 0.1))
        s_level = np.clip((xr - (warn - span)) / (2 * span), 0, 1)
        s_eta = np.clip(1.0 - eta_s / (2 * c.lead_s), 0, 1)
        score = np.where(ready, np.fmax(np.nan_to_num(s_level), np.nan_to_num(s_eta)), 0.0)
        ctx = {"x": x, "lvl": lvl, "slope_h": slope_h, "eta_s": eta_s, "warn": warn, "guar": guar}
        return Output(score, lv, hold, [x, lvl, slope_h], ctx)

    def _learn(self, rnd: Round, x: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Holt update on the median of three; returns the smoothed level and the slope in m/h."""
        c, s, slot, t = self.cfg, self.state, rnd.slot, rnd.t
        r1, r2 = s.raw1[slot].astype(np.float64), s.raw2[slot].astype(np.float64)
        med = np.where(np.isnan(r2), x, median3(x, r1, r2))
        s.raw2[slot], s.raw1[slot] = np.where(has, r1, r2), np.where(has, x, r1)
        lvl, slope = s.lvl[slot].astype(np.float64), s.slope[slot].astype(np.float64)
        fresh = has & np.isnan(lvl)
        dt = np.nan_to_num(t - s.last_t[slot], nan=0.0)
        pred = lvl + slope * dt
        new_lvl = pred + ewma_alpha(dt, c.level_tau_s) * (med - pred)
        new_slope = slope + ewma_alpha(dt, c.slope_tau_s) * ((new_lvl - lvl) / np.where(dt > 0, dt, 1.0) - slope)
        upd = has & ~fresh & (dt > 0)
        lvl = np.where(fresh, x, np.where(upd, new_lvl, lvl))
        slope = np.where(upd, new_slope, slope)
        s.lvl[slot], s.slope[slot] = lvl, slope
        s.last_t[slot] = np.where(has, t, s.last_t[slot])
        s.n[slot] = np.where(has, np.minimum(s.n[slot].astype(np.int64) + 1, 65535), s.n[slot])
        return lvl, slope * 3600.0

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x = {k: float(v[j]) for k, v in out.ctx.items()}
        rise = f"rising {100 * x['slope_h']:.0f} cm/h"
        if not firing:
            return f"level {x['x']:.2f} m, {rise}: back to normal"
        if rule == RULE_LEVEL:
            which = "guarantee" if x["x"] >= x["guar"] else "warning"
            limit = x["guar"] if which == "guarantee" else x["warn"]
            return f"level {x['x']:.2f} m is above the {which} level {limit:.2f} m, {rise}"
        if rule == RULE_PROJECTED:
            return (f"level {x['x']:.2f} m {rise}: projected to reach the warning level {x['warn']:.2f} m "
                    f"in {duration_words(max(x['eta_s'], 0.0))}")
        return f"level {x['x']:.2f} m {rise} for {duration_words(seconds)}"


class Stuck(Detector):
    """A gauge reporting the very same level for ``stuck.for_s`` (6 h): a frozen sensor.

    Real water surfaces move by millimetres within hours; an exactly repeated value
    means the sensor or its logger is stuck (WMO-No. 168, *Guide to Hydrological
    Practices*, on plausibility checks).
    """

    name, kind = "stuck", "river_gauge"
    fields = ("level",)

    STATE: ClassVar[StateSpec] = {"last": (np.float32, np.nan), "n": (np.uint16, 0)}

    def step(self, rnd: Round) -> Output:
        s, slot = self.state, rnd.slot
        x = rnd.cols["level"]
        has = ~np.isnan(x)
        last = s.last[slot].astype(np.float64)
        ready = has & (s.n[slot] >= self.cfg.warmup_readings)
        same = ready & (np.abs(x - last) <= self.cfg.tolerance)
        s.last[slot] = np.where(has, x, last)
        s.n[slot] = np.where(has, np.minimum(s.n[slot].astype(np.int64) + 1, 65535), s.n[slot])
        return Output(np.zeros(len(rnd)), [pick([(same, BLUE)], len(rnd), has)], [same], [x], {"x": x})

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        if not firing:
            return f"gauge moving again ({out.ctx['x'][j]:.2f} m)"
        return f"gauge has reported exactly {out.ctx['x'][j]:.3f} m for {duration_words(seconds)}: check the sensor"
