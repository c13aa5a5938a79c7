"""A kind's devices as the signal models see them: slots, per-device parameters, weather.

Models are pure functions of (device, time), so a ``Fleet`` holds only what is fixed
for the run: the city slots of the kind's devices, parameters drawn once from the
seed (or read from ``devices.csv``), and the scenario's storms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.city import City
from core.kinds import kind_code


@dataclass(frozen=True, slots=True)
class Storm:
    """Rain over a set of towns (all if empty): ``rate_mm_h`` from ``start_s`` for ``duration_s``."""

    start_s: float
    duration_s: float
    rate_mm_h: float
    towns: tuple[str, ...] = ()


@dataclass(slots=True)
class Fleet:
    kind: str
    slots: np.ndarray  # int64 city device slots, the kind's devices in city order
    seed: int
    city: City
    storms: list[Storm] = field(default_factory=list)
    p: dict[str, np.ndarray] = field(default_factory=dict)  # per-device model parameters

    def __len__(self) -> int:
        return len(self.slots)

    @classmethod
    def of(cls, city: City, kind: str, seed: int, storms: list[Storm] | None = None) -> Fleet:
        slots = np.flatnonzero(city.devices.kind == kind_code(kind)).astype(np.int64)
        return cls(kind, slots, seed, city, list(storms or []))

    def param(self, name: str, default: float) -> np.ndarray:
        """A ``devices.csv`` column for this kind's devices, ``default`` where blank or absent."""
        return self.city.devices.param(name, self.slots, default)

    def local(self, slots: np.ndarray) -> np.ndarray:
        """Positions in this fleet of city slots (all must belong to the kind)."""
        return np.searchsorted(self.slots, slots)
