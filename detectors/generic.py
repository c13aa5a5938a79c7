"""A robust, self-calibrating detector for any numeric series.

Location and scale are tracked by Huber-clipped exponentially weighted updates (a
streaming M-estimator: it behaves like a running median and mean absolute deviation,
but outliers move it by at most ``huber_k`` scales), so it needs no tuning per
series; the score maps the robust z-score through ``z² / (z² + 25)`` so that a
series in kW and one in °C give comparable scores (z = 5 → 0.5). Readings are
counted, not timed: the detector makes no assumption about the sampling interval.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.base import (
    BLUE,
    YELLOW,
    Detector,
    Output,
    Round,
    StateSpec,
    duration_words,
    pick,
    z_score_to_unit,
)
from detectors.config import GenericConfig


class Generic(Detector):
    """Rule ``<kind>.<field>_anomaly`` on one field (``value`` for ``--kind generic``)."""

    name, kind = "generic", "generic"
    STATE: ClassVar[StateSpec] = {"loc": (np.float32, np.nan), "scale": (np.float32, 0.0), "n": (np.uint16, 0)}

    def __init__(self, cfg: GenericConfig, rules: list, flap_window_s: float, flap_doublings: int,
                 field: str = "value") -> None:
        super().__init__(cfg, rules, flap_window_s, flap_doublings)
        self.fields = (field,)

    def step(self, rnd: Round) -> Output:
        c, s, slot = self.cfg, self.state, rnd.slot
        x = rnd.cols[self.fields[0]]
        has = np.isfinite(x)
        loc, scale, n = s.loc[slot].astype(np.float64), s.scale[slot].astype(np.float64), s.n[slot]
        ready = has & (n >= c.warmup_readings)
        floor = c.min_rel_scale * np.abs(np.nan_to_num(loc)) + 1e-9
        sd = 1.2533 * np.maximum(scale, floor)
        z = np.where(ready, (x - loc) / sd, 0.0)
        az = np.abs(z)
        lv = pick([(az >= c.blue_z, BLUE), (az >= c.yellow_z, YELLOW)], len(rnd), has)
        self._learn(slot, x, has, loc, scale, n, sd)
        return Output(z_score_to_unit(z), [lv], [az >= c.clear_z], [x], {"x": x, "loc": loc, "z": z})

    def _learn(self, slot: np.ndarray, x: np.ndarray, has: np.ndarray, loc: np.ndarray, scale: np.ndarray,
               n: np.ndarray, sd: np.ndarray) -> None:
        c, s = self.cfg, self.state
        warm = n < c.warmup_readings
        fresh = has & np.isnan(loc)
        a = np.where(warm, 1.0 / (n.astype(np.float64) + 1.0), 1.0 - 0.5 ** (1.0 / c.halflife_readings))
        k = np.where(warm, np.inf, c.huber_k * sd)
        d = np.clip(x - loc, -k, k)
        upd = has & ~fresh
        s.loc[slot] = np.where(fresh, x, np.where(upd, loc + a * d, loc))
        s.scale[slot] = np.where(upd, scale + a * (np.abs(d) - scale), scale)
        s.n[slot] = np.where(has, np.minimum(n.astype(np.int64) + 1, 65535), n)

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x, loc, z = (float(out.ctx[k][j]) for k in ("x", "loc", "z"))
        name = self.fields[0]
        if not firing:
            return f"{name} {x:.4g}, back near its usual {loc:.4g}"
        word = "above" if z > 0 else "below"
        return f"{name} {x:.4g}, far {word} its usual {loc:.4g} ({abs(z):.0f}× its normal spread) " \
               f"for {duration_words(seconds)}"
