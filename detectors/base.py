"""The batch detector protocol and the small numeric helpers every detector shares.

A detector keeps per-device state in numpy arrays indexed by a *kind-local slot*
(0..n-1 for the devices of one kind). The pipeline calls ``step`` once per *round*:
a set of readings with at most one reading per device, in event-time order per
device. ``step`` scores each reading with the state as it was (score, then learn,
like River's ``score_one``/``learn_one``) and returns, per alert rule, a wanted
severity level per reading:

* ``-1``: this reading says nothing about the rule (field absent); state unchanged;
* ``0``: condition absent; ``1..4``: ``blue..red`` wanted.

plus ``hold`` (still above the *clear* threshold: hysteresis) and a score in
[0, 1]. While a device is warming up its scores are 0 and its levels 0: "not ready"
never alarms.

>>> s = Columns({"mean": (np.float32, np.nan), "n": (np.uint16, 0)})
>>> s.grow(3); s.mean.tolist(), s.nbytes
([nan, nan, nan], 18)
>>> z_score_to_unit(np.array([0.0, 5.0, 1e9])).round(2).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from detectors.alerting import AlertTable, RuleSpec

StateSpec = dict[str, tuple[Any, float]]  # per-device array name -> (dtype, initial value)

NOT_KNOWN, NONE, BLUE, YELLOW, ORANGE, RED = -1, 0, 1, 2, 3, 4


class Columns:
    """Named per-device numpy arrays that grow together; ``cols.name`` is the array."""

    def __init__(self, spec: dict[str, tuple[Any, float]], width: dict[str, int] | None = None) -> None:
        self._spec = spec
        self._width = width or {}
        for name, (dtype, fill) in spec.items():
            shape = (0, self._width[name]) if name in self._width else (0,)
            setattr(self, name, np.full(shape, fill, dtype=dtype))

    def grow(self, n: int) -> None:
        """Make room for ``n`` devices; new rows start at the fill value."""
        for name, (dtype, fill) in self._spec.items():
            old = getattr(self, name)
            if len(old) >= n:
                continue
            shape = (n, self._width[name]) if name in self._width else (n,)
            new = np.full(shape, fill, dtype=dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self._spec)


@dataclass(slots=True)
class Round:
    """At most one reading per device: kind-local slots, event time and field columns."""

    slot: np.ndarray  # int64 kind-local slots, unique
    ts: np.ndarray  # int64 epoch ms
    cols: dict[str, np.ndarray]  # field -> float64 (NaN = absent)
    night: np.ndarray | None = None  # bool per reading; set by the pipeline when asked
    how: np.ndarray | None = None  # local hour of week (Mon 00h = 0), when asked

    def __len__(self) -> int:
        return len(self.slot)

    @property
    def t(self) -> np.ndarray:
        """Event time in seconds (float64)."""
        return self.ts / 1000.0


@dataclass(slots=True)
class Output:
    """What ``step`` found: per rule a level and hold array; a score; context for reasons."""

    score: np.ndarray
    level: list[np.ndarray]  # per rule, int8
    hold: list[np.ndarray]  # per rule, bool
    value: list[np.ndarray]  # per rule, the value that decides
    ctx: dict[str, np.ndarray] = field(default_factory=dict)


class Detector:
    """Base of every detector; subclasses set ``name``, ``kind``, ``fields`` and rules."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    fields: tuple[str, ...] = ()
    wants_local_time: ClassVar[bool] = False
    STATE: ClassVar[StateSpec] = {}  # the detector's per-device arrays
    WIDTH: ClassVar[dict[str, int]] = {}  # arrays with several cells per device (e.g. 168 hours of week)

    def __init__(self, cfg: Any, rules: list[RuleSpec], flap_window_s: float, flap_doublings: int) -> None:
        self.cfg = cfg
        self.alerts = AlertTable(rules, flap_window_s, flap_doublings)
        self.state = Columns(dict(self.STATE), dict(self.WIDTH))
        self.params: dict[str, np.ndarray] = {}  # per-device overrides, float32
        self.n = 0

    @property
    def rules(self) -> list[RuleSpec]:
        return self.alerts.rules

    def configure(self, cfg: Any, rules: list[RuleSpec], flap_window_s: float, flap_doublings: int) -> None:
        """New parameters, state kept (``DetectorEngine.reload``)."""
        self.cfg = cfg
        self.alerts.configure(rules, flap_window_s, flap_doublings)

    def grow(self, n: int) -> None:
        self.n = max(self.n, n)
        self.state.grow(n)
        self.alerts.grow(n)
        for name, arr in self.params.items():
            if len(arr) < n:
                self.params[name] = np.concatenate([arr, np.full(n - len(arr), np.nan, np.float32)])

    def param(self, name: str, slot: np.ndarray, default: float) -> np.ndarray:
        """Per-device parameter from ``devices.csv`` where given, else the configured default."""
        arr = self.params.get(name)
        if arr is None:
            return np.full(len(slot), default)
        vals = arr[slot].astype(np.float64)
        return np.where(np.isnan(vals), default, vals)

    def step(self, rnd: Round) -> Output:  # pragma: no cover - abstract
        """Score the round's readings with the current state, then learn from them."""
        raise NotImplementedError

    def tick(self, slots_now_s: int, night: bool) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Time-driven rules: ``[(rule_index, slots, level)]``; most detectors have none."""
        return []

    def describe(self, rule: int, out: Output, j: int, firing: bool, seconds: float) -> str:
        """A sentence for a grid worker about reading ``j`` of ``out`` (a transition)."""
        return f"{self.rules[rule].name} {'firing' if firing else 'resolved'}"

    @property
    def nbytes(self) -> int:
        """All memory held: per-device state, alert cells, per-device parameters, shared models."""
        return self.state.nbytes + self.alerts.nbytes + sum(a.nbytes for a in self.params.values()) + self.shared_nbytes

    @property
    def shared_nbytes(self) -> int:
        """Memory not per device (a model shared by all devices of the kind)."""
        return 0


def ewma_alpha(dt_s: np.ndarray, tau_s: float) -> np.ndarray:
    """Weight of a new sample after ``dt_s`` seconds for an EWMA with time constant ``tau_s``.

    Irregular sampling (gaps, 10 s vs 60 s devices) keeps the same memory in *time*.
    """
    return -np.expm1(-np.maximum(dt_s, 0.0) / tau_s)


def z_score_to_unit(z: np.ndarray, half: float = 5.0) -> np.ndarray:
    """Map |z| to [0, 1) so that |z| = ``half`` gives 0.5: comparable across scales."""
    z2 = np.square(np.nan_to_num(z, nan=0.0, posinf=1e6, neginf=1e6))
    return z2 / (z2 + half * half)


def median3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Element-wise median of three arrays (no sort).

    >>> median3(np.array([1.0, 5.0]), np.array([3.0, 2.0]), np.array([2.0, 9.0])).tolist()
    [2.0, 5.0]
    """
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def pick(conditions: list[tuple[np.ndarray, int]], n: int, known: np.ndarray | None = None) -> np.ndarray:
    """Level per reading: the highest severity whose condition holds; -1 where not ``known``."""
    out = np.zeros(n, np.int8)
    for cond, sev in conditions:
        out = np.where(cond & (out < sev), np.int8(sev), out)
    if known is not None:
        out = np.where(known, out, np.int8(NOT_KNOWN))
    return out


def duration_words(seconds: float) -> str:
    """``40 s``, ``12 min``, ``3.5 h`` — how long, as a grid worker says it.

    >>> duration_words(40), duration_words(720), duration_words(12600)
    ('40 s', '12 min', '3.5 h')
    """
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
