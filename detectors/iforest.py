"""Meter detector with a multivariate model: scikit-learn's IsolationForest, refit off the hot path.

Features per reading, scale-free so one forest serves every meter: the log ratio of
power to the meter's own day-long average, the step since its previous reading
relative to that average, and the local hour. The forest (Liu, Ting & Zhou, 2008)
is fit on a bounded reservoir of recent readings and then *tabulated* on a grid of
the three features, so scoring a batch is one table lookup per reading (the forest
itself is never called on the hot path). ``refit()`` runs on a background thread
(or explicitly); swapping the table is one atomic assignment.

Scores follow the paper: about 0.5 is ordinary, towards 1 isolated quickly.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np

from detectors.base import BLUE, YELLOW, Detector, Output, Round, StateSpec, duration_words, ewma_alpha, pick

GRID = 40  # cells per continuous feature
SPAN = 4.0  # features are clipped to [-SPAN, SPAN]


def _cell(f: np.ndarray) -> np.ndarray:
    return np.clip(((f + SPAN) / (2 * SPAN) * GRID).astype(np.int64), 0, GRID - 1)


class IForest(Detector):
    """Rule ``meter.iforest``: readings the forest isolates quickly, sustained for ``iforest.for_s``."""

    name, kind = "iforest", "meter"
    fields = ("power_kw",)
    wants_local_time = True
    STATE: ClassVar[StateSpec] = {"avg": (np.float32, np.nan), "prev": (np.float32, np.nan),
                                  "last_t": (np.float64, np.nan), "n": (np.uint16, 0)}

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._buf = np.zeros((self.cfg.reservoir, 3), np.float32)
        self._filled = 0  # samples ever written (ring position = _filled % reservoir)
        self._seen = 0  # ready readings ever seen (for sample_every)
        self._fitted_at = 0  # _filled at the last fit
        self._now_s = self._fit_s = float("-inf")  # latest event time seen / at the last fit
        self.table: np.ndarray | None = None  # (GRID, GRID, 24) anomaly scores
        self.fits = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def step(self, rnd: Round) -> Output:
        c, s, slot = self.cfg, self.state, rnd.slot
        x = rnd.cols["power_kw"]
        has = ~np.isnan(x)
        avg, prev = s.avg[slot].astype(np.float64), s.prev[slot].astype(np.float64)
        ready = has & (s.n[slot] >= c.warmup_readings)
        ref = np.maximum(np.abs(np.nan_to_num(avg)), 1e-3)
        f1 = np.clip(np.nan_to_num(np.log((np.maximum(x, 0) + 0.01 * ref) / (1.01 * ref))), -SPAN, SPAN)
        f2 = np.clip(np.nan_to_num((x - prev) / ref), -SPAN, SPAN)
        hour = (rnd.how % 24).astype(np.int64)
        table = self.table
        raw = np.zeros(len(rnd)) if table is None else table[_cell(f1), _cell(f2), hour].astype(np.float64)
        raw = np.where(ready, raw, 0.0)
        lv = pick([(raw >= c.blue_score, BLUE), (raw >= c.yellow_score, YELLOW)], len(rnd), has)
        self._sample(ready, f1, f2, hour)
        self._now_s = max(self._now_s, float(rnd.t.max()))
        self._learn(rnd, x, has, avg)
        score = np.clip((raw - 0.5) * 2.0, 0.0, 1.0)
        return Output(score, [lv], [raw >= c.clear_score], [x], {"x": x, "avg": avg, "raw": raw})

    def _learn(self, rnd: Round, x: np.ndarray, has: np.ndarray, avg: np.ndarray) -> None:
        s, slot = self.state, rnd.slot
        dt = np.nan_to_num(rnd.t - s.last_t[slot], nan=0.0)
        a = ewma_alpha(dt, self.cfg.level_tau_s)
        s.avg[slot] = np.where(has, np.where(np.isnan(avg), x, avg + a * (x - avg)), avg)
        s.prev[slot] = np.where(has, x, s.prev[slot])
        s.last_t[slot] = np.where(has, rnd.t, s.last_t[slot])
        s.n[slot] = np.where(has, np.minimum(s.n[slot].astype(np.int64) + 1, 65535), s.n[slot])

    def _sample(self, ready: np.ndarray, f1: np.ndarray, f2: np.ndarray, hour: np.ndarray) -> None:
        """Keep every ``sample_every``-th ready reading in the ring buffer (deterministic)."""
        idx = np.flatnonzero(ready)
        k = self.cfg.sample_every
        take = idx[(self._seen + np.arange(len(idx))) % k == 0]
        self._seen += len(idx)
        if not len(take):
            return
        rows = np.column_stack([f1[take], f2[take], hour[take]]).astype(np.float32)[-len(self._buf):]
        pos = (self._filled + np.arange(len(rows))) % len(self._buf)
        with self._lock:
            self._buf[pos] = rows
            self._filled += len(rows)

    def refit_due(self) -> bool:
        c = self.cfg
        have = min(self._filled, len(self._buf))
        if have < c.min_fit_samples:
            return False
        return self.table is None or (self._filled - self._fitted_at >= c.refit_every_samples
                                      and self._now_s - self._fit_s >= c.refit_every_s)

    def refit(self) -> bool:
        """Fit a new forest on the reservoir and tabulate it; safe to call from another thread."""
        from sklearn.ensemble import IsolationForest

        c = self.cfg
        with self._lock:
            have = min(self._filled, len(self._buf))
            if have < c.min_fit_samples:
                return False
            data, mark, now = self._buf[:have].copy(), self._filled, self._now_s
        forest = IsolationForest(n_estimators=c.n_estimators, random_state=c.seed).fit(data)
        centers = (np.arange(GRID) + 0.5) / GRID * 2 * SPAN - SPAN
        g1, g2, h = np.meshgrid(centers, centers, np.arange(24), indexing="ij")
        grid = np.column_stack([g1.ravel(), g2.ravel(), h.ravel()])
        table = (-forest.score_samples(grid)).reshape(GRID, GRID, 24).astype(np.float32)
        self.table, self._fitted_at, self._fit_s = table, mark, now
        self.fits += 1
        return True

    @property
    def shared_nbytes(self) -> int:
        return self._buf.nbytes + (0 if self.table is None else self.table.nbytes)

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        x, avg, raw = (float(out.ctx[k][j]) for k in ("x", "avg", "raw"))
        if not firing:
            return f"power {x:.0f} kW, an ordinary pattern again"
        return (f"unusual load pattern for {duration_words(seconds)}: {x:.0f} kW against a daily average of "
                f"{avg:.0f} kW (isolation score {raw:.2f})")
