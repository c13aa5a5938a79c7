"""Signal models per device kind, vectorised over many devices and a time range.

``sample(fleet, a, b, effects)`` is the one entry point: which devices report in
[a, b) and when (``schedule``), what the kind's model says they read (``wearable``,
``smoke``, ``river_gauge`` → ``river``, ``meter``), then incidents and faults
(``effects``) bend those values, and dropouts remove some. Every model is a pure
function of (seed, device, time), so any window cut gives the same readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from core.batch import ReadingBatch
from simulators.signals import meter, river, schedule, smoke, wearable
from simulators.signals.fleet import Fleet, Storm

MODELS = {"wearable": wearable, "smoke": smoke, "river_gauge": river, "meter": meter}

__all__ = ["MODELS", "Effect", "Fleet", "Storm", "prepare", "sample"]


class Effect(Protocol):
    """An incident or a fault: bends some devices' values during [start_s, end_s)."""

    kind: str
    devices: np.ndarray  # city device slots
    start_s: float
    end_s: float

    def modify(self, f: Fleet, i: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray],
               keep: np.ndarray) -> None:
        """Change ``values`` (and clear ``keep`` to silence rows) in place; rows are the affected ones."""
        ...


def prepare(f: Fleet, intervals: tuple[float, ...] | None = None) -> Fleet:
    """Draw the fleet's per-device parameters (once per run)."""
    MODELS[f.kind].prepare(f)
    schedule.prepare(f, intervals)
    return f


def _model_values(f: Fleet, i: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    if f.kind == "river_gauge":
        return river.values(f, i, t, f.p["interval"][i])
    return MODELS[f.kind].values(f, i, t)


def sample(f: Fleet, a: float, b: float, effects: Sequence[Effect] = ()) -> ReadingBatch:
    """Readings of the fleet's devices reported in [a, b) seconds, as one batch ordered by time."""
    i, t = schedule.due(f, a, b)
    values = _model_values(f, i, t)
    keep = schedule.delivered(f, i, t)
    slot = f.slots[i]
    for e in effects:
        if e.kind != f.kind or e.end_s <= a or e.start_s >= b:
            continue
        rows = np.flatnonzero(np.isin(slot, e.devices) & (t >= e.start_s) & (t < e.end_s))
        if len(rows):
            sub = {k: v[rows] for k, v in values.items()}
            sub_keep = keep[rows]
            e.modify(f, i[rows], t[rows], sub, sub_keep)
            for k, v in sub.items():
                values[k][rows] = v
            keep[rows] = sub_keep
    ts = schedule.stamp_ms(f, i, t)
    return ReadingBatch(f.kind, slot[keep], ts[keep], {k: v[keep] for k, v in values.items()})
