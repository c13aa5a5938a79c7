"""Wearable detectors: heart rate against the wearer's own baseline, SpO₂, falls, silence.

The defining red case (DOMAIN.md): an elderly man's heart rate falls sharply. Sources:

* Heart-rate drop: relative to the *wearer's* usual rate, because resting rates
  differ by 30 bpm between people; a 25-35 % fall within minutes is far outside the
  ~10-15 % night-time dip (Cook et al., *Circulation* 2006 on day/night heart rate).
  A 25 % fall that lands below 50 bpm (bradycardia) is red as well as a 35 % fall.
* Bradycardia < 50 bpm: 2018 ACC/AHA/HRS bradycardia guideline (Kusumoto et al.),
  which uses 50 bpm rather than 60 as the clinically relevant threshold; < 40 bpm
  is marked bradycardia.
* Tachycardia > 100 bpm at rest (AHA). A wristband cannot see rest, so the defaults
  ask for > 120 bpm for 15 min: an elderly walk at 100-115 bpm stays quiet.
* SpO₂ < 90 % is hypoxaemia needing oxygen (WHO, *Pulse Oximetry Training Manual*,
  2011); < 85 % is severe. Sustained 30 s so a single motion artefact never fires.
* A wrist PPG sensor off the skin reports 0 or nonsense: readings below
  ``min_valid_bpm`` are "no contact", not a heart-rate drop (they feed ``silence``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.base import (
    BLUE,
    NOT_KNOWN,
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


class Heart(Detector):
    """Heart-rate drop vs own baseline (red), bradycardia, tachycardia.

    The baseline is a slow EWMA (``baseline_tau_s``) of the *resting* rate: it learns
    from readings within ``learn_band`` of it, upward ``rise_tau_factor`` times slower
    than downward (a walk must not lift "usual"), and from readings further away only
    ten times slower still, so a drop is not learned while it matters. A sensor repeating the very same value
    ``stuck_readings`` times is frozen: those readings neither teach nor alarm. The
    red case is confirmed over ``hr_drop.for_s``.
    """

    name, kind = "heart", "wearable"
    fields = ("heart_rate",)
    STATE: ClassVar[StateSpec] = {"base": (np.float32, np.nan), "n": (np.uint16, 0), "last_t": (np.float64, np.nan),
                                  "first_t": (np.float64, np.nan), "last": (np.float32, np.nan), "rep": (np.uint8, 0)}

    def step(self, rnd: Round) -> Output:
        c, s, slot = self.cfg, self.state, rnd.slot
        hr = rnd.cols["heart_rate"]
        valid = (hr >= c.min_valid_bpm) & ~self._frozen(slot, hr)
        base, n = s.base[slot].astype(np.float64), s.n[slot]
        ready = valid & self._warmed(slot, rnd.t)
        ratio = np.where(ready, hr / base, 1.0)
        drop = np.maximum(1.0 - ratio, 0.0)
        known = valid  # 0 bpm = no contact: says nothing about the heart (silence handles it)
        into_brady = (drop >= c.drop_orange) & (hr < c.brady_yellow_bpm)  # a sharp fall that ends in bradycardia
        lv_drop = pick([(drop >= c.drop_orange, ORANGE), ((drop >= c.drop_red) | into_brady, RED)], len(rnd), known)
        hr_r = np.where(ready, hr, np.nan)
        lv_brady = pick([(hr_r < c.brady_yellow_bpm, YELLOW), (hr_r < c.brady_orange_bpm, ORANGE)], len(rnd), known)
        lv_tachy = pick([(hr_r > c.tachy_yellow_bpm, YELLOW), (hr_r > c.tachy_orange_bpm, ORANGE)], len(rnd), known)
        score = np.where(ready, np.clip(np.abs(ratio - 1.0) / 0.5, 0.0, 1.0), 0.0)
        self._learn(rnd, valid, hr, base, n)
        return Output(
            score,
            [lv_drop, lv_brady, lv_tachy],
            [drop >= c.drop_clear, hr_r < c.brady_clear_bpm, hr_r > c.tachy_clear_bpm],
            [hr, hr, hr],
            {"base": base, "hr": hr},
        )

    def _frozen(self, slot: np.ndarray, hr: np.ndarray) -> np.ndarray:
        """True where the sensor has repeated exactly this value ``stuck_readings`` times."""
        s, has = self.state, ~np.isnan(hr)
        same = has & (hr.astype(np.float32) == s.last[slot])
        rep = np.where(same, np.minimum(s.rep[slot].astype(np.int64) + 1, 255), np.where(has, 0, s.rep[slot]))
        s.rep[slot], s.last[slot] = rep, np.where(has, hr, s.last[slot])
        return rep >= self.cfg.stuck_readings

    def _warmed(self, slot: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Ready after ``warmup_readings`` learned readings spanning ``warmup_s``."""
        s, c = self.state, self.cfg
        return (s.n[slot] >= c.warmup_readings) & (t - s.first_t[slot] >= c.warmup_s)

    def _learn(self, rnd: Round, valid: np.ndarray, hr: np.ndarray, base: np.ndarray, n: np.ndarray) -> None:
        c, s, slot, t = self.cfg, self.state, rnd.slot, rnd.t
        fresh = valid & np.isnan(base)
        warm = valid & ~self._warmed(slot, t) & ~fresh
        rel = hr / np.where(fresh, hr, base) - 1.0
        dt = np.nan_to_num(t - s.last_t[slot], nan=0.0)
        a = np.where(rel > 0, ewma_alpha(dt, c.baseline_tau_s * c.rise_tau_factor), ewma_alpha(dt, c.baseline_tau_s))
        # in band: learn; outside it (a walk, a drop, or a wrong start): 10x slower still, so an
        # alert fires long before the baseline could learn the anomaly
        a = np.where(np.abs(rel) <= c.learn_band, a, 0.1 * a)
        # warming up: a resting-rate envelope, quick to come down (a walk at start-up), slow to go up
        a = np.where(warm, np.where(rel > 0, ewma_alpha(dt, 600.0), ewma_alpha(dt, 60.0)), a)
        learn = valid & ~fresh & (a > 0)
        new = np.where(fresh, hr, np.where(learn, base + a * (hr - base), base))
        s.base[slot] = new
        s.n[slot] = np.where(fresh | learn, np.minimum(n.astype(np.int64) + 1, 65535), n)
        s.last_t[slot] = np.where(valid, t, s.last_t[slot])
        s.first_t[slot] = np.where(fresh, t, s.first_t[slot])

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        hr, base = out.ctx["hr"][j], out.ctx["base"][j]
        if not firing:
            return f"heart rate back to {hr:.0f} bpm (usual {base:.0f})"
        if rule == 0:
            pct = 100.0 * (1.0 - hr / base)
            return (f"heart rate {hr:.0f} bpm, {pct:.0f}% below this wearer's usual {base:.0f} "
                    f"for the last {duration_words(seconds)}")
        word = "slow (bradycardia)" if rule == 1 else "fast (tachycardia)"
        return f"heart rate {hr:.0f} bpm, {word} for the last {duration_words(seconds)} (usual {base:.0f})"


class Spo2(Detector):
    """Blood oxygen below a safe level for a sustained time (WHO: < 90 % hypoxaemia)."""

    name, kind = "spo2", "wearable"
    fields = ("spo2",)

    STATE: ClassVar[StateSpec] = {"n": (np.uint16, 0)}

    def step(self, rnd: Round) -> Output:
        c, s, slot = self.cfg, self.state, rnd.slot
        x = rnd.cols["spo2"]
        valid = x >= c.min_valid
        ready = valid & (s.n[slot] >= c.warmup_readings)
        xr = np.where(ready, x, np.nan)
        lv = pick([(xr < c.orange_below, ORANGE), (xr < c.red_below, RED)], len(rnd), valid)
        score = np.where(ready, np.clip((95.0 - x) / 15.0, 0.0, 1.0), 0.0)
        s.n[slot] = np.where(valid, np.minimum(s.n[slot].astype(np.int64) + 1, 65535), s.n[slot])
        return Output(score, [lv], [xr < c.clear_at], [x], {"x": x})

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x = out.ctx["x"][j]
        if not firing:
            return f"blood oxygen back to {x:.0f}%"
        return f"blood oxygen {x:.0f}% (safe is 94% or more) for the last {duration_words(seconds)}"


class Fall(Detector):
    """A fall without recovery.

    The band reports ``fall=1`` on each report from the moment it detects a fall
    until the wearer cancels it (stands up and presses the button), as SOS bands
    do; ``fall=0`` means no fall or cancelled. A fall still uncancelled after
    ``fall.for_s`` (30 s, in line with the ~1 min immobility wait of consumer fall
    detection) is red; a fall cancelled sooner raises nothing.
    """

    name, kind = "fall", "wearable"
    fields = ("fall",)

    STATE: ClassVar[StateSpec] = {"n": (np.uint16, 0)}

    def step(self, rnd: Round) -> Output:
        s, slot = self.state, rnd.slot
        x = rnd.cols["fall"]
        known = ~np.isnan(x)
        ready = known & (s.n[slot] >= self.cfg.warmup_readings)
        lv = pick([(ready & (x >= 0.5), RED)], len(rnd), known)
        s.n[slot] = np.where(known, np.minimum(s.n[slot].astype(np.int64) + 1, 65535), s.n[slot])
        return Output(np.where(ready & (x >= 0.5), 1.0, 0.0), [lv], [np.zeros(len(rnd), bool)], [x])

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        if not firing:
            return "fall cancelled: the wearer is up"
        return f"fall detected, no recovery for {duration_words(seconds)}"


class Silence(Detector):
    """The band gone silent: no valid heart rate for ``day_after_s`` (``night_after_s`` at night).

    Silence is judged by ``tick`` on the service clock; any valid reading clears it.
    Nights get a longer allowance because bands are charged overnight.
    """

    name, kind = "silence", "wearable"
    fields = ("heart_rate", "battery")

    STATE: ClassVar[StateSpec] = {"last_s": (np.float64, np.nan), "battery": (np.float32, np.nan)}

    def step(self, rnd: Round) -> Output:
        s, slot = self.state, rnd.slot
        hr, bat = rnd.cols["heart_rate"], rnd.cols["battery"]
        valid = hr >= self.cfg.min_valid_bpm
        s.last_s[slot] = np.where(valid, rnd.t, s.last_s[slot])
        s.battery[slot] = np.where(np.isnan(bat), s.battery[slot], bat)
        lv = np.where(valid, np.int8(0), np.int8(NOT_KNOWN))
        return Output(np.zeros(len(rnd)), [lv], [np.zeros(len(rnd), bool)], [hr], {"hr": hr})

    def tick(self, now_s: float, night: bool) -> list[tuple[int, np.ndarray, np.ndarray]]:
        after = self.cfg.night_after_s if night else self.cfg.day_after_s
        silent = (now_s - self.state.last_s) >= after  # NaN (never heard) compares False
        active = self.alerts.state[0] != 0
        slots = np.flatnonzero(silent | active)
        lv = np.where(silent[slots], np.int8(BLUE if night else YELLOW), np.int8(NOT_KNOWN))
        return [(0, slots, lv)]

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        if not firing:
            return "band reporting again"
        slot = int(out.ctx["slot"][j])
        quiet = out.ctx["now_s"][j] - self.state.last_s[slot]
        bat = self.state.battery[slot]
        why = f"; last battery {bat:.0f}%" if not np.isnan(bat) else ""
        return f"no heart-rate reading from the band for {duration_words(quiet)} (off the wrist or flat{why})"
