"""Alert state per (device, rule), vectorised: inactive → pending → firing → resolved.

Semantics (Prometheus-style, in event time):

* a reading with level > 0 starts *pending*; the alert *fires* at the first reading
  at least ``for_s`` after pending began while every reading in between wanted it
  (a level-0 reading drops pending), so single spikes never fire;
* the severity it fires with is the lowest level seen while pending, or the level of
  the last two readings if higher; while firing, two readings in a row at a higher
  level raise it (an event). So one wild reading never sets the colour. Severities
  never step down until resolution, so a worker is not told "less urgent" mid-rescue;
* it *resolves* when readings stay below the clear threshold (level 0 and not
  ``hold``: hysteresis) for ``clear_for_s``;
* flap damping: an alert that fires again within ``flap_window_s`` of resolving
  doubles its ``clear_for_s`` (up to ``2**flap_doublings``), so a signal hovering
  at a threshold gives one long alert, not a stream of them;
* one active alert per (device, rule) by construction: the state is one cell.

Times are int32 seconds since 2020-01-01 to keep ~17 bytes per device and rule.

>>> t = AlertTable([RuleSpec("x.hot", for_s=20, clear_for_s=0)], 900, 3)
>>> t.grow(1)
>>> s = np.array([0])
>>> [t.update(0, s, np.array([ms]), np.array([lv], np.int8), np.array([False])).kind.tolist()
...  for ms, lv in [(0, 3), (10_000, 3), (20_000, 4), (30_000, 0)]]
[[], [], [1], [3]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPOCH_S = 1_577_836_800  # 2020-01-01T00:00:00Z
UNSET = np.iinfo(np.int32).min
FIRE, UPGRADE, RESOLVE = 1, 2, 3
INACTIVE, PENDING, FIRING = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One alert rule: its name (``kind.rule``) and its timing."""

    name: str
    for_s: float = 0.0
    clear_for_s: float = 0.0


@dataclass(slots=True)
class Transitions:
    """Transitions of one rule in one round: row indices into the round and what happened."""

    row: np.ndarray  # index into the round's readings
    kind: np.ndarray  # FIRE / UPGRADE / RESOLVE
    severity: np.ndarray  # int8: new severity (for RESOLVE: the severity it had)
    started_s: np.ndarray  # int32 seconds since EPOCH_S when pending began

    def __len__(self) -> int:
        return len(self.row)


def to_rel_s(ts_ms: np.ndarray) -> np.ndarray:
    """Epoch ms -> int32 seconds since 2020-01-01 (the table's time unit)."""
    return (np.asarray(ts_ms, np.int64) // 1000 - EPOCH_S).astype(np.int32)


def rel_s_to_ms(rel: np.ndarray | int) -> np.ndarray | int:
    return (np.asarray(rel, np.int64) + EPOCH_S) * 1000


class AlertTable:
    """State cells of shape (rules, devices); ``update`` applies one round of one rule."""

    def __init__(self, rules: list[RuleSpec], flap_window_s: float, flap_doublings: int) -> None:
        self.rules = list(rules)
        self.flap_window_s, self.flap_doublings = flap_window_s, flap_doublings
        r = len(self.rules)
        self.state = np.zeros((r, 0), np.int8)
        self.sev = np.zeros((r, 0), np.int8)
        self.lo = np.zeros((r, 0), np.int8)  # lowest level while pending
        self.prev = np.zeros((r, 0), np.int8)  # last known level
        self.flaps = np.zeros((r, 0), np.uint8)
        self.since = np.zeros((r, 0), np.int32)
        self.clear_since = np.zeros((r, 0), np.int32)
        self.resolved_at = np.zeros((r, 0), np.int32)

    def configure(self, rules: list[RuleSpec], flap_window_s: float, flap_doublings: int) -> None:
        if [x.name for x in rules] != [x.name for x in self.rules]:
            raise ValueError("a reload may change rule timing, not the set of rules")
        self.rules = list(rules)
        self.flap_window_s, self.flap_doublings = flap_window_s, flap_doublings

    def grow(self, n: int) -> None:
        have = self.state.shape[1]
        if n <= have:
            return
        extra = n - have
        r = len(self.rules)
        for name, fill in (("state", 0), ("sev", 0), ("lo", 0), ("prev", 0), ("flaps", 0), ("since", 0),
                           ("clear_since", UNSET), ("resolved_at", UNSET)):
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full((r, extra), fill, old.dtype)], axis=1))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.state, self.sev, self.lo, self.prev, self.flaps, self.since,
                                      self.clear_since, self.resolved_at))

    def firing_severity(self, slots: np.ndarray) -> np.ndarray:
        """Highest severity firing on each device (0 = none)."""
        if not len(self.rules):
            return np.zeros(len(slots), np.int8)
        sev = np.where(self.state[:, slots] == FIRING, self.sev[:, slots], 0)
        return sev.max(axis=0).astype(np.int8)

    def update(self, r: int, slots: np.ndarray, ts_ms: np.ndarray, level: np.ndarray,
               hold: np.ndarray) -> Transitions:
        """Apply one reading per device (``slots`` unique) to rule ``r``.

        Cells that are inactive and stay so (the vast majority) do not change at all,
        so only the others are gathered and scattered.
        """
        st = self.state[r, slots]
        busy = (st != INACTIVE) | (level > 0)
        if busy.all():
            return self._update(r, slots, ts_ms, level, hold, st)
        idx = np.flatnonzero(busy)
        if not len(idx):
            return Transitions(idx, idx.astype(np.int8), idx.astype(np.int8), idx.astype(np.int32))
        tr = self._update(r, slots[idx], ts_ms[idx], level[idx], hold[idx], st[idx])
        tr.row = idx[tr.row]
        return tr

    def _update(self, r: int, slots: np.ndarray, ts_ms: np.ndarray, level: np.ndarray, hold: np.ndarray,
                st: np.ndarray) -> Transitions:
        spec = self.rules[r]
        t = to_rel_s(ts_ms)
        sev, since = self.sev[r, slots], self.since[r, slots]
        known, want = level >= 0, level > 0
        prev = self.prev[r, slots]
        start = want & (st == INACTIVE)
        lo = np.where(start, level, np.where(want & (st == PENDING), np.minimum(self.lo[r, slots], level),
                                             self.lo[r, slots]))
        since = np.where(start, t, since)
        st = np.where(start, PENDING, st)
        st = np.where(known & ~want & (st == PENDING), INACTIVE, st)
        fire = (st == PENDING) & want & (t - since >= spec.for_s)
        twice = np.minimum(level, prev)  # the level the last two readings agree on
        upgrade = (st == FIRING) & want & (twice > sev)
        resolve = self._clearing(r, slots, t, st, known & ~want & ~hold, spec.clear_for_s)
        if fire.any():
            self._count_flaps(r, slots[fire], t[fire])
        st = np.where(fire, FIRING, np.where(resolve, INACTIVE, st))
        old_sev = sev
        sev = np.where(fire, np.maximum(lo, twice), np.where(upgrade, twice, np.where(resolve, 0, sev))).astype(np.int8)
        self.state[r, slots], self.sev[r, slots], self.since[r, slots] = st, sev, since
        self.lo[r, slots], self.prev[r, slots] = lo, np.where(known, level, prev)
        if resolve.any():
            self.resolved_at[r, slots[resolve]] = t[resolve]
        kind = np.select([fire, upgrade, resolve], [FIRE, UPGRADE, RESOLVE], 0).astype(np.int8)
        row = np.flatnonzero(kind)
        out_sev = np.where(resolve, old_sev, sev)
        return Transitions(row, kind[row], out_sev[row], since[row])

    def _clearing(self, r: int, slots: np.ndarray, t: np.ndarray, st: np.ndarray, calm: np.ndarray,
                  clear_for_s: float) -> np.ndarray:
        firing = st == FIRING
        calm = calm & firing
        cs = self.clear_since[r, slots]
        cs = np.where(calm, np.where(cs == UNSET, t, cs), UNSET)
        need = clear_for_s * np.left_shift(1, self.flaps[r, slots].astype(np.int64))
        resolve = calm & (t.astype(np.int64) - cs >= need)
        self.clear_since[r, slots] = np.where(resolve, UNSET, cs)
        return resolve

    def _count_flaps(self, r: int, slots: np.ndarray, t: np.ndarray) -> None:
        last = self.resolved_at[r, slots]
        recent = (last != UNSET) & (t.astype(np.int64) - last < self.flap_window_s)
        flaps = self.flaps[r, slots]
        self.flaps[r, slots] = np.where(recent, np.minimum(flaps + 1, self.flap_doublings), 0)
