"""Counter-based noise: the same (seed, stream, device, step) always gives the same draw.

A simulated device's reading at a time must not depend on how the time range was
cut into windows (live publishing in 1 s steps, a test's one big window, replay), so
noise is a hash of its coordinates (SplitMix64) rather than a stateful generator.

>>> import numpy as np
>>> a = uniform(7, 1, np.array([3, 3]), np.array([10, 11]))
>>> bool(np.all((a >= 0) & (a < 1))), bool(a[0] != a[1])
(True, True)
>>> float(uniform(7, 1, np.array([3]), np.array([10]))[0]) == float(a[0])
True
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def hash64(seed: int, stream: int, a: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
    """A well-mixed uint64 per element of ``a`` (and ``b``), for a seed and a named stream."""
    key = np.uint64((seed * 1_000_003 + stream * 7919) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x = _mix(np.asarray(a).astype(np.int64).view(np.uint64) * _GOLD + key)
        return _mix(x ^ (np.asarray(b).astype(np.int64).view(np.uint64) + _GOLD))


def uniform(seed: int, stream: int, a: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
    """Uniform [0, 1) draws, float64."""
    return (hash64(seed, stream, a, b) >> np.uint64(11)).astype(np.float64) * (2.0**-53)


def normal(seed: int, stream: int, a: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
    """Standard normal draws (Box-Muller on two independent uniform streams)."""
    u1 = uniform(seed, stream, a, b)
    u2 = uniform(seed, stream + 100_000, a, b)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def local_hours(t: np.ndarray, tz_hours: float = 8.0) -> np.ndarray:
    """Hour of day (float, 0-24) in local time; Chongqing is UTC+8 all year."""
    return ((t / 3600.0) + tz_hours) % 24.0
