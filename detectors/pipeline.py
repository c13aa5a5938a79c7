"""Run the detectors of one kind over a batch: event-time order, late readings, rounds, transitions.

Ordering policy (documented in docs/detectors.md):

* rows are sorted by (device, ts); each device's readings are processed in time order;
* a reading not newer than the last one processed for its device is *not* scored:
  equal ts counts as ``duplicate`` (a QoS 1 redelivery), older as ``late``; stateful
  detectors never move backwards in time, and nothing crashes;
* readings are fed in *rounds* of at most one reading per device, so every detector
  updates its state arrays with plain vectorised gathers and scatters. A normal batch
  is one round; a burst of several readings per device costs a round per depth.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from detectors.alerting import RESOLVE, rel_s_to_ms
from detectors.base import Detector, Output, Round


@dataclass(frozen=True, slots=True)
class Transition:
    """One alert transition of one device (kind-local slot), ready to become an AlertEvent."""

    slot: int
    rule: str
    firing: bool
    severity: int
    reason: str
    value: float
    started_ms: int
    at_ms: int


@dataclass(slots=True)
class RowResult:
    """Per input row (batch order): the highest detector score and firing severity after it."""

    score: np.ndarray
    severity: np.ndarray


def local_offset_s(tz: ZoneInfo, ts_ms: np.ndarray) -> np.ndarray:
    """UTC offset in seconds per reading (one zone lookup unless the batch spans a change)."""
    def off(ms: int) -> int:
        return int(datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).utcoffset().total_seconds())

    lo, hi = off(int(ts_ms.min())), off(int(ts_ms.max()))
    if lo == hi:
        return np.full(len(ts_ms), lo, np.int64)
    return np.fromiter((off(int(m)) for m in ts_ms), np.int64, len(ts_ms))


def hour_of_week(ts_ms: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Local hour of week, Monday 00:00-00:59 = 0 (1970-01-01 was a Thursday)."""
    local_h = (ts_ms // 1000 + local_offset_s(tz, ts_ms)) // 3600
    return (local_h + 72) % 168


def night_checker(tz: ZoneInfo, start_hour: int, end_hour: int) -> Callable[[int], bool]:
    """``f(now_ms) -> bool``: local night between ``start_hour`` and ``end_hour`` (wrapping midnight)."""
    def night(now_ms: int) -> bool:
        off = int(local_offset_s(tz, np.array([now_ms], np.int64))[0])
        hour = ((now_ms // 1000 + off) // 3600) % 24
        if start_hour > end_hour:
            return start_hour <= hour or hour < end_hour
        return start_hour <= hour < end_hour

    return night


class KindPipeline:
    """The detectors of one kind over kind-local slots; owns each device's last processed ts."""

    def __init__(self, kind: str, detectors: list[Detector], tz: ZoneInfo) -> None:
        self.kind, self.detectors, self.tz = kind, detectors, tz
        self.last_ts = np.zeros(0, np.int64)
        self._mark = np.zeros(0, np.int32)  # scratch for the uniqueness check
        self.counts: Counter[str] = Counter()
        self._sync_fields()

    def _sync_fields(self) -> None:
        self.fields = sorted({f for d in self.detectors for f in d.fields})
        self.local_time = any(d.wants_local_time for d in self.detectors)

    def set_detectors(self, detectors: list[Detector]) -> None:
        self.detectors = detectors
        for d in detectors:
            d.grow(len(self.last_ts))
        self._sync_fields()

    def grow(self, n: int) -> None:
        if n > len(self.last_ts):
            self.last_ts = np.concatenate([self.last_ts, np.full(n - len(self.last_ts), np.iinfo(np.int64).min)])
        for d in self.detectors:
            d.grow(n)

    @property
    def nbytes(self) -> int:
        return self.last_ts.nbytes + self._mark.nbytes + sum(d.nbytes for d in self.detectors)

    def run(self, slot: np.ndarray, ts: np.ndarray, values: dict[str, np.ndarray],
            rows: bool = False) -> tuple[list[Transition], RowResult | None]:
        """Score then learn every in-order reading; return transitions (and per-row results)."""
        n = len(slot)
        result = RowResult(np.zeros(n), np.zeros(n, np.int8)) if rows else None
        out: list[Transition] = []
        if n == 0:
            return out, result
        cols = {f: _col(values, f, n) for f in self.fields}
        for idx in self._rounds(slot, ts):
            if idx is None:  # one reading per device, all in order: no reordering needed
                rnd, idx = Round(slot, ts, cols), np.arange(n)
            else:
                rnd = Round(slot[idx], ts[idx], {f: c[idx] for f, c in cols.items()})
            if self.local_time:
                rnd.how = hour_of_week(rnd.ts, self.tz)
            self._round(rnd, out, idx, result)
        return out, result

    def _unique(self, slot: np.ndarray) -> bool:
        """Whether every device appears once (a scatter and a gather, no sort)."""
        if len(self._mark) < len(self.last_ts):
            self._mark = np.zeros(len(self.last_ts), np.int32)
        pos = np.arange(len(slot), dtype=np.int32)
        self._mark[slot] = pos
        return bool((self._mark[slot] == pos).all())

    def _rounds(self, slot: np.ndarray, ts: np.ndarray) -> list[np.ndarray | None]:
        """Row indices per round, after dropping late and duplicate readings (counted)."""
        if self._unique(slot):
            bound = self.last_ts[slot]
            keep = ts > bound
            if keep.all():
                self.counts["scored"] += len(slot)
                self.last_ts[slot] = ts
                return [None]
        order = np.lexsort((ts, slot))
        s, t = slot[order], ts[order]
        first = np.r_[True, s[1:] != s[:-1]]
        prev = np.where(first, np.iinfo(np.int64).min, np.r_[np.int64(0), t[:-1]])
        bound = np.maximum(self.last_ts[s], prev)
        keep = t > bound
        if not keep.all():
            self.counts["duplicate"] += int(np.count_nonzero(t == bound))
            self.counts["late"] += int(np.count_nonzero(t < bound))
            order, s, t = order[keep], s[keep], t[keep]
        self.counts["scored"] += len(order)
        if not len(order):
            return []
        first = np.r_[True, s[1:] != s[:-1]]
        starts = np.flatnonzero(first)
        ends = np.r_[starts[1:] - 1, len(s) - 1]
        self.last_ts[s[ends]] = t[ends]
        rank = np.arange(len(s)) - np.repeat(starts, np.diff(np.r_[starts, len(s)]))
        depth = int(rank.max()) + 1
        if depth == 1:
            return [order]
        by_rank = np.argsort(rank, kind="stable")
        cuts = np.searchsorted(rank[by_rank], np.arange(depth + 1))
        return [order[by_rank[a:b]] for a, b in itertools.pairwise(cuts)]

    def _round(self, rnd: Round, out: list[Transition], idx: np.ndarray, result: RowResult | None) -> None:
        for det in self.detectors:
            o = det.step(rnd)
            for r in range(len(det.rules)):
                self._emit(det, r, o, rnd.slot, rnd.ts, out)
            if result is not None:
                result.score[idx] = np.maximum(result.score[idx], np.clip(o.score, 0.0, 1.0))
        if result is not None:
            for det in self.detectors:
                result.severity[idx] = np.maximum(result.severity[idx], det.alerts.firing_severity(rnd.slot))

    def _emit(self, det: Detector, r: int, o: Output, slots: np.ndarray, ts: np.ndarray,
              out: list[Transition]) -> None:
        """Apply rule ``r``'s levels to the alert table and describe each transition."""
        rule = det.rules[r].name
        tr = det.alerts.update(r, slots, ts, o.level[r], o.hold[r])
        for j, kind, sev, started in zip(tr.row.tolist(), tr.kind.tolist(), tr.severity.tolist(),
                                         rel_s_to_ms(tr.started_s).tolist(), strict=True):
            at = int(ts[j])
            firing = kind != RESOLVE
            reason = det.describe(r, o, j, firing, max(at - started, 0) / 1000.0)
            out.append(Transition(int(slots[j]), rule, firing, int(sev), reason, float(o.value[r][j]),
                                  int(started), at))

    def tick(self, now_ms: int, night: bool) -> list[Transition]:
        """Time-driven rules of every detector at ``now_ms`` (service or simulated clock)."""
        out: list[Transition] = []
        for det in self.detectors:
            for r, slots, level in det.tick(now_ms / 1000.0, night):
                if not len(slots):
                    continue
                k, m = len(slots), len(det.rules)
                o = Output(np.zeros(k), [level] * m, [np.zeros(k, bool)] * m, [np.full(k, np.nan)] * m,
                           {"slot": slots, "now_s": np.full(k, now_ms / 1000.0)})
                self._emit(det, r, o, slots, np.full(k, now_ms, np.int64), out)
        return out


def _col(values: dict[str, np.ndarray], name: str, n: int) -> np.ndarray:
    col = values.get(name)
    return np.full(n, np.nan) if col is None else np.asarray(col, np.float64)
