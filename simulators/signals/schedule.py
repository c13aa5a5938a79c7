"""When devices report: fixed intervals (10-60 s) with phases, dropouts, gaps and clock skew.

Based on what field fleets do: each device reports on its own period from a
boot-time phase; radio links lose ~0.3 % of messages and now and then a whole ten
minutes (a gateway reboot, a dead spot); device clocks drift by a second or two
between NTP syncs, and each report jitters by a few hundred milliseconds.

>>> import numpy as np
>>> from core.city import load_city
>>> f = Fleet.of(load_city("tests/data/city-small"), "wearable", seed=1); prepare(f)
>>> i, t = due(f, 0.0, 600.0)
>>> 4 * 600 / 30 <= len(t) <= 4 * 600 / 10, bool(np.all((t >= 0) & (t < 600)))
(True, True)
"""

from __future__ import annotations

import numpy as np

from simulators.signals.fleet import Fleet
from simulators.signals.noise import normal, uniform

INTERVALS_S: dict[str, tuple[float, ...]] = {
    "wearable": (10.0, 15.0, 30.0),
    "smoke": (30.0, 60.0),
    "river_gauge": (60.0,),
    "meter": (30.0, 60.0),
}
DROP_P = 0.003  # one lost message in ~300
GAP_S, GAP_P = 600.0, 0.001  # a silent ten minutes, one in a thousand


def prepare(f: Fleet, intervals: tuple[float, ...] | None = None) -> None:
    choices = np.array(intervals or INTERVALS_S[f.kind])
    slot = f.slots
    f.p["interval"] = choices[np.minimum((uniform(f.seed, 61, slot) * len(choices)).astype(np.int64),
                                         len(choices) - 1)]
    f.p["phase"] = uniform(f.seed, 62, slot) * f.p["interval"]
    f.p["skew"] = 1.5 * normal(f.seed, 63, slot)


def due(f: Fleet, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """(fleet index, true time s) of every report scheduled in [a, b), ordered by time."""
    iv, ph = f.p["interval"], f.p["phase"]
    k0 = np.ceil((a - ph) / iv).astype(np.int64)
    k1 = np.ceil((b - ph) / iv).astype(np.int64)
    n = np.maximum(k1 - k0, 0)
    i = np.repeat(np.arange(len(iv)), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    k = k0[i] + (np.arange(len(i)) - starts)
    t = k * iv[i] + ph[i]
    order = np.argsort(t, kind="stable")
    return i[order], t[order]


def delivered(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Mask of reports that get through (not lost, not in a gap)."""
    slot = f.slots[i]
    lost = uniform(f.seed, 64, slot, np.round(t)) < DROP_P
    gap = uniform(f.seed, 65, slot, np.floor(t / GAP_S)) < GAP_P
    return ~(lost | gap)


def stamp_ms(f: Fleet, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The device's own timestamp (epoch ms): true time + its clock skew + jitter."""
    jitter = 0.25 * (uniform(f.seed, 66, f.slots[i], np.round(t)) - 0.5)
    return np.round((t + f.p["skew"][i] + jitter) * 1000.0).astype(np.int64)
