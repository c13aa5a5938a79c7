"""The latest reading of every device, kept by a batch consumer in numpy columns.

The API shows a device's last values (``AppContext.latest_readings``); keeping them
costs one vectorised update per batch and a float per field per device.

>>> import numpy as np
>>> from core.city import load_city
>>> from core.batch import ReadingBatch
>>> city = load_city("tests/data/city-small")
>>> latest = LatestReadings(city)
>>> latest.consume(ReadingBatch("wearable", np.array([0, 0]), np.array([2000, 1000]),
...                             {"heart_rate": np.array([70.0, 71.0]), "spo2": np.array([np.nan, 97.0])}))
>>> latest.get("wb-0001")
{'ts': 2000, 'values': {'heart_rate': 70.0}}
>>> latest.get("wb-0002") is None
True
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from core.batch import ReadingBatch
from core.city import City
from core.kinds import FIELDS, KINDS


class LatestReadings:
    """``consume(batch)`` on the pipeline thread; ``get(device_id)`` from any thread."""

    def __init__(self, city: City) -> None:
        n = len(city.devices)
        self._city = city
        self._ts = np.full(n, np.iinfo(np.int64).min, np.int64)
        self._values = {k: {f: np.full(n, np.nan) for f in FIELDS[k]} for k in KINDS}
        self._lock = threading.Lock()

    def consume(self, batch: ReadingBatch) -> None:
        if not len(batch):
            return
        order = np.argsort(batch.ts, kind="stable")[::-1]  # newest first
        slots, first = np.unique(batch.device[order], return_index=True)
        rows = order[first]  # each device's newest row in the batch
        newer = batch.ts[rows] >= self._ts[slots]
        slots, rows = slots[newer], rows[newer]
        with self._lock:
            self._ts[slots] = batch.ts[rows]
            for name, col in self._values[batch.kind].items():
                col[slots] = batch.column(name)[rows]

    def get(self, device_id: str) -> dict[str, Any] | None:
        slot = self._city.devices.slot(device_id)
        if slot < 0:
            return None
        with self._lock:
            ts = int(self._ts[slot])
            if ts == np.iinfo(np.int64).min:
                return None
            kind = self._city.devices.kind_name(slot)
            values = {f: float(col[slot]) for f, col in self._values[kind].items() if not np.isnan(col[slot])}
        return {"ts": ts, "values": values}
