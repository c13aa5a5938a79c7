"""Smoke sensor detector: obscuration, heat (static and rate of rise), CO dose; smoke + heat is fire.

Sources for the defaults:

* Obscuration: UL 217 requires smoke alarms to respond between 0.5 and 4 %/ft
  (≈ 1.6-12.5 %/m); EN 54-7 point detectors respond at 0.05-0.2 dB/m (≈ 1-4.5 %/m)
  in its fire tests. 8 %/m is a typical household setting; 20 %/m is dense smoke.
* Heat: EN 54-5 class A1 static response 54-65 °C (58 °C here); class A1R adds a
  rate-of-rise response, tested at 10 °C/min and faster.
* CO: EN 50291-1 alarm times — 50 ppm: 60-90 min, 100 ppm: 10-40 min, 300 ppm:
  < 3 min. A first-order uptake model (the way carboxyhaemoglobin builds up) with
  time constant 16 min and alarm at 49 ppm-equivalent meets all three: 50 ppm →
  63 min, 100 ppm → 11 min, 300 ppm → 2.9 min.

Smoke alone is yellow (orange when dense), because cooking makes smoke; smoke with
heat or CO is a fire and red. Two signals agreeing justify lower thresholds for that
combination (``fire_smoke`` 4 %/m, the top of EN 54-7's response range, with a rise
of ``fire_ror_c_per_min``): cooking warms a room by a few °C over minutes, a flaming
fire by 10-30 °C/min.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.base import (
    ORANGE,
    RED,
    YELLOW,
    Detector,
    Output,
    Round,
    StateSpec,
    duration_words,
    ewma_alpha,
    pick,
)

RULE_FIRE, RULE_SMOKE, RULE_HEAT, RULE_CO = range(4)


class Fire(Detector):
    """Rules ``smoke.fire`` (red), ``smoke.smoke``, ``smoke.heat``, ``smoke.co``."""

    name, kind = "fire", "smoke"
    fields = ("smoke", "temperature", "co")

    STATE: ClassVar[StateSpec] = {
        "temp": (np.float32, np.nan), "temp_t": (np.float64, np.nan), "ror": (np.float32, 0.0),
        "dose": (np.float32, 0.0), "co_t": (np.float64, np.nan), "n": (np.uint16, 0),
    }

    def step(self, rnd: Round) -> Output:
        c, s, slot = self.cfg, self.state, rnd.slot
        sm, temp, co = rnd.cols["smoke"], rnd.cols["temperature"], rnd.cols["co"]
        ror = self._rate_of_rise(rnd, temp)
        dose = self._co_dose(rnd, co)
        ready = s.n[slot] >= c.warmup_readings
        s.n[slot] = np.minimum(s.n[slot].astype(np.int64) + 1, 65535)
        smr, tr = np.where(ready, sm, np.nan), np.where(ready, temp, np.nan)
        rr = np.where(ready & ~np.isnan(temp), ror, np.nan)  # state counts only where its field came
        dr, cor = np.where(ready & ~np.isnan(co), dose, np.nan), np.where(ready, co, np.nan)
        hot = (tr >= c.heat_static_c) | (rr >= c.ror_c_per_min)
        heat_or_co = (tr >= c.heat_static_c) | (rr >= c.fire_ror_c_per_min) | (cor >= c.co_fire_ppm)
        n, known_any = len(rnd), ~(np.isnan(sm) & np.isnan(temp) & np.isnan(co))
        lv = [
            pick([((smr >= c.fire_smoke) & heat_or_co, RED)], n, known_any),
            pick([(smr >= c.smoke_alarm, YELLOW), (smr >= c.smoke_dense, ORANGE)], n, ~np.isnan(sm)),
            pick([(hot, ORANGE)], n, ~(np.isnan(temp))),
            pick([(dr >= c.co_alarm_equiv_ppm, ORANGE), ((dr >= c.co_alarm_equiv_ppm) & (cor >= c.co_red_ppm), RED)],
                 n, ~np.isnan(co)),
        ]
        warm_smoke = smr >= c.smoke_clear
        warm_heat = (tr >= c.heat_clear_c) | (rr >= c.ror_c_per_min / 3)
        hold = [warm_smoke | warm_heat, warm_smoke, warm_heat, dr >= c.co_clear_equiv_ppm]
        score = np.fmax.reduce([
            np.clip(smr / (2 * c.smoke_dense), 0, 1), np.clip((tr - 40.0) / 40.0, 0, 1),
            np.clip(rr / (2 * c.ror_c_per_min), 0, 1), np.clip(dr / (2 * c.co_alarm_equiv_ppm), 0, 1),
        ])
        ctx = {"smoke": sm, "temp": temp, "ror": ror, "co": co, "dose": dose}
        return Output(np.nan_to_num(score, nan=0.0), lv, hold, [sm, sm, temp, co], ctx)

    def _rate_of_rise(self, rnd: Round, temp: np.ndarray) -> np.ndarray:
        """EWMA of dT/dt in °C/min over ``ror_tau_s``; unchanged where temperature is absent."""
        s, slot, t = self.state, rnd.slot, rnd.t
        has = ~np.isnan(temp)
        last, last_t, ror = s.temp[slot].astype(np.float64), s.temp_t[slot], s.ror[slot].astype(np.float64)
        dt = t - last_t
        ok = has & ~np.isnan(last) & (dt > 0)
        slope = np.where(ok, (temp - last) / np.where(ok, dt, 1.0) * 60.0, 0.0)
        a = ewma_alpha(np.where(ok, dt, 0.0), self.cfg.ror_tau_s)
        ror = np.where(ok, ror + a * (slope - ror), ror)
        s.ror[slot] = ror
        s.temp[slot] = np.where(has, temp, last)
        s.temp_t[slot] = np.where(has, t, last_t)
        return ror

    def _co_dose(self, rnd: Round, co: np.ndarray) -> np.ndarray:
        """Uptake model: dose → CO with time constant ``co_tau_s`` (ppm-equivalent)."""
        s, slot, t = self.state, rnd.slot, rnd.t
        has = ~np.isnan(co)
        dose, last_t = s.dose[slot].astype(np.float64), s.co_t[slot]
        dt = np.nan_to_num(t - last_t, nan=0.0)
        a = ewma_alpha(np.minimum(dt, 3600.0), self.cfg.co_tau_s)
        dose = np.where(has, dose + a * (co - dose), dose)
        s.dose[slot] = dose
        s.co_t[slot] = np.where(has, t, last_t)
        return dose

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x = {k: float(v[j]) for k, v in out.ctx.items()}
        heat = f"{x['temp']:.0f} °C rising {x['ror']:.0f} °C/min"
        if rule == RULE_CO:
            if not firing:
                return f"carbon monoxide down to {x['co']:.0f} ppm"
            return f"carbon monoxide {x['co']:.0f} ppm: exposure at the EN 50291 alarm level"
        if not firing:
            return f"cleared: smoke {x['smoke']:.1f} %/m, {heat}"
        if rule == RULE_FIRE:
            return f"fire: smoke {x['smoke']:.1f} %/m with heat {heat}, co {x['co']:.0f} ppm"
        if rule == RULE_SMOKE:
            return f"smoke {x['smoke']:.1f} %/m for {duration_words(seconds)} (temperature {heat})"
        return f"heat {heat} without smoke alarm"
