"""ReadingBatch: the columnar unit that flows from ingest to sinks and detectors.

One batch holds readings of a single kind as numpy columns, so the hot path works on
arrays, never on an object per reading. ``device`` holds slots into
``City.devices`` (not ids), ``ts`` epoch milliseconds (UTC), and ``values`` one
float64 column per field of the kind with NaN where a reading did not carry it.

>>> import numpy as np
>>> b = ReadingBatch.empty("wearable")
>>> len(b)
0
>>> b = ReadingBatch("river_gauge", np.array([3]), np.array([1_000]),
...                  {"level": np.array([2.5]), "rain": np.array([np.nan])})
>>> b.column("level").tolist()
[2.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.kinds import field_names


@dataclass(slots=True)
class ReadingBatch:
    """Readings of one kind in columns; rows are in arrival order unless sorted."""

    kind: str
    device: np.ndarray  # int64 device slots into City.devices
    ts: np.ndarray  # int64 epoch ms
    values: dict[str, np.ndarray]  # field -> float64, NaN = not reported
    received_ms: np.ndarray | None = field(default=None)  # int64 arrival wall time

    def __post_init__(self) -> None:
        n = len(self.device)
        if len(self.ts) != n or any(len(v) != n for v in self.values.values()):
            raise ValueError("ReadingBatch columns must have equal length")

    def __len__(self) -> int:
        return len(self.device)

    @classmethod
    def empty(cls, kind: str) -> ReadingBatch:
        return cls(
            kind,
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            {f: np.empty(0, np.float64) for f in field_names(kind)},
        )

    def column(self, name: str) -> np.ndarray:
        """The field's column, all NaN if this batch carries no such field."""
        col = self.values.get(name)
        if col is None:
            return np.full(len(self), np.nan)
        return col

    def take(self, index: np.ndarray) -> ReadingBatch:
        """A new batch with the rows selected by an index or boolean mask."""
        return ReadingBatch(
            self.kind,
            self.device[index],
            self.ts[index],
            {k: v[index] for k, v in self.values.items()},
            None if self.received_ms is None else self.received_ms[index],
        )

    def sorted_by_time(self) -> ReadingBatch:
        """Rows ordered by (ts, arrival), stable, as detectors want them."""
        order = np.argsort(self.ts, kind="stable")
        return self.take(order)

    @classmethod
    def concat(cls, batches: Sequence[ReadingBatch]) -> ReadingBatch:
        """Join batches of the same kind; fields missing from one are NaN there."""
        if not batches:
            raise ValueError("concat needs at least one batch")
        kind = batches[0].kind
        if any(b.kind != kind for b in batches):
            raise ValueError("concat needs batches of one kind")
        names = list(dict.fromkeys(k for b in batches for k in b.values))  # first batch's field order first
        received = None
        if all(b.received_ms is not None for b in batches):
            received = np.concatenate([b.received_ms for b in batches])
        return cls(
            kind,
            np.concatenate([b.device for b in batches]),
            np.concatenate([b.ts for b in batches]),
            {n: np.concatenate([b.column(n) for b in batches]) for n in names},
            received,
        )
