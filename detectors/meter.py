"""Enterprise meter detectors: deviation from the meter's own week, stop to zero, counter resets.

An enterprise's load repeats by hour of the week (shifts, weekends), so the
baseline is one robust level per hour of week (168 bins, local time) — the
"similar day" baseline of demand-response measurement (e.g. CAISO/PJM customer
baseline methods) made robust: a Huber-clipped running level approximates the
median, and one relative absolute-deviation scale per meter stands in for the MAD
(×1.2533 to a standard deviation), so a stoppage or a spike does not rewrite the
profile. A reading far from the median of the last three is not learned, so an
isolated spike never enters the profile (not even as a bin's first value); after a
real step only the first reading is skipped. A meter is ready after
``warmup_weeks`` of history.

A reading is compared with the range between its hour's level and the nearer
neighbouring hour's, so a shift that ramps up inside an hour is not an anomaly; a
stop or a surge falls outside both. Learning is paced in time, not per reading:
``learn_rate`` and ``scale_rate`` are the weights of one reading every
``learn_every_s`` (15 min, the classic interval-meter period); a 30 s meter's
reading weighs 1/30th of that (compounded), so a stoppage rewrites the profile no
faster on a 30 s meter than on a 15 min one.
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
    median3,
    pick,
    z_score_to_unit,
)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK_S = 7 * 86400


def how_words(how: int) -> str:
    """Hour of week as a worker says it: ``Tue 14:00``."""
    return f"{DAYS[how // 24]} {how % 24:02d}:00"


class Profile(Detector):
    """Rules ``meter.profile`` (robust z vs the hour-of-week level) and ``meter.stop``."""

    name, kind = "profile", "meter"
    fields = ("power_kw",)
    wants_local_time = True

    STATE: ClassVar[StateSpec] = {
        "med": (np.float32, np.nan), "cnt": (np.uint8, 0), "rscale": (np.float32, 0.05),
        "first_s": (np.float64, np.nan), "raw1": (np.float32, np.nan), "raw2": (np.float32, np.nan),
        "last_s": (np.float64, np.nan),
    }
    WIDTH: ClassVar[dict[str, int]] = {"med": 168, "cnt": 168}

    def step(self, rnd: Round) -> Output:
        c, s, slot, how = self.cfg, self.state, rnd.slot, rnd.how
        x = rnd.cols["power_kw"]
        has = ~np.isnan(x)
        m, k = s.med[slot, how].astype(np.float64), s.cnt[slot, how]
        first = np.where(np.isnan(s.first_s[slot]), rnd.t, s.first_s[slot])
        ready = has & (k >= 1) & (rnd.t - first >= c.warmup_weeks * WEEK_S)
        ref = np.maximum(np.abs(np.nan_to_num(m)), c.min_scale_kw)
        sabs = 1.2533 * np.maximum(s.rscale[slot].astype(np.float64), 0.01) * ref
        lo, hi = self._band(rnd, m)
        z = np.where(ready, (x - np.clip(x, lo, hi)) / sabs, 0.0)
        az = np.abs(z)
        stop = ready & (m >= c.stop_min_kw) & (x <= c.stop_fraction * m)
        lv = [pick([(az >= c.blue_z, BLUE), (az >= c.yellow_z, YELLOW)], len(rnd), has),
              pick([(stop, YELLOW)], len(rnd), has)]
        hold = [az >= c.clear_z, ready & (x <= 0.2 * m)]
        r1, r2 = s.raw1[slot].astype(np.float64), s.raw2[slot].astype(np.float64)
        x3 = np.where(np.isnan(r2) | np.isnan(r1), x, median3(x, r1, r2))
        s.raw2[slot], s.raw1[slot] = np.where(has, r1, r2), np.where(has, x, r1)
        odd = np.abs(x - x3) > 3.0 * 1.2533 * 0.05 * np.maximum(np.abs(x3), c.min_scale_kw)
        self._learn(rnd, x, has & ~odd, m, k, sabs, ref)
        s.first_s[slot] = np.where(has, first, s.first_s[slot])
        s.last_s[slot] = np.where(has, rnd.t, s.last_s[slot])
        ctx = {"x": x, "m": m, "z": z, "how": how}
        return Output(z_score_to_unit(z), lv, hold, [x, x], ctx)

    def _band(self, rnd: Round, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The range between this hour's level and the nearer neighbouring hour's (the previous one in the
        first half hour, the next one in the second): a shift ramping up or down across the hour
        (07:00-08:00 from night base to full load) is not a deviation from the week. Minutes are
        taken in UTC, the same as local minutes in whole-hour time zones such as Asia/Shanghai."""
        slot, how = rnd.slot, rnd.how
        late = (rnd.t % 3600.0) >= 1800.0
        adj = self.state.med[slot, np.where(late, (how + 1) % 168, (how - 1) % 168)].astype(np.float64)
        adj = np.where(np.isnan(adj), m, adj)
        return np.minimum(adj, m), np.maximum(adj, m)

    def _learn(self, rnd: Round, x: np.ndarray, has: np.ndarray, m: np.ndarray, k: np.ndarray,
               sabs: np.ndarray, ref: np.ndarray) -> None:
        c, s, slot, how = self.cfg, self.state, rnd.slot, rnd.how
        fresh = has & (k == 0)
        # this reading's share of one ``learn_every_s`` period (a first reading or one after a gap: one period)
        share = np.clip(np.nan_to_num(rnd.t - s.last_s[slot], nan=c.learn_every_s), 0.0, c.learn_every_s)
        share = share / c.learn_every_s
        floor, srate = (-np.expm1(share * np.log1p(-r)) for r in (c.learn_rate, c.scale_rate))
        w = np.maximum(1.0 / (k.astype(np.float64) + 1.0), floor)
        step = np.clip(x - m, -3.0 * sabs, 3.0 * sabs)
        new = np.where(fresh, x, np.where(has, m + w * step, m))
        s.med[slot, how] = new
        s.cnt[slot, how] = np.where(has, np.minimum(k.astype(np.int64) + 1, 255), k)
        rs = s.rscale[slot].astype(np.float64)
        dev = np.minimum(np.abs(x - m) / ref, 3.0 * np.maximum(rs, 0.01))
        s.rscale[slot] = np.where(has & ~fresh, rs + srate * (dev - rs), rs)

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x, m, z, how = (float(out.ctx[k][j]) for k in ("x", "m", "z", "how"))
        usual = f"usually {m:.0f} kW on {how_words(int(how))}"
        if not firing:
            return f"power {x:.0f} kW, back to the usual pattern ({usual})"
        if rule == 1:
            return f"power stopped: {x:.1f} kW for {duration_words(seconds)}, {usual}"
        word = "above" if z > 0 else "below"
        return f"power {x:.0f} kW, far {word} this meter's week ({usual}, {abs(z):.0f}× its normal spread)"


class Counter(Detector):
    """Rule ``meter.counter_reset``: the cumulative ``energy_kwh`` went backwards (reset or meter swap)."""

    name, kind = "counter", "meter"
    fields = ("energy_kwh",)

    STATE: ClassVar[StateSpec] = {"last": (np.float64, np.nan)}

    def step(self, rnd: Round) -> Output:
        s, slot = self.state, rnd.slot
        e = rnd.cols["energy_kwh"]
        has = ~np.isnan(e)
        last = s.last[slot]
        back = has & (e < last - self.cfg.tolerance_kwh)
        s.last[slot] = np.where(has, e, last)
        lv = pick([(back, BLUE)], len(rnd), has)
        return Output(back.astype(np.float64), [lv], [np.zeros(len(rnd), bool)], [e], {"e": e, "last": last})

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        if not firing:
            return f"energy counter counting up again ({out.ctx['e'][j]:.1f} kWh)"
        return (f"energy counter went back from {out.ctx['last'][j]:.1f} to {out.ctx['e'][j]:.1f} kWh "
                "(reset or meter replaced)")
