"""InfluxDB line protocol for whole batches: one C-level format call per field pattern.

A line is ``<kind>,device_id=<id>,grid_id=<grid> <field>=<float>,... <ts>`` with the
timestamp in milliseconds (written with ``precision=ms``), so a reading sent twice is
the same point and overwrites itself. The series key (measurement and tags) depends only
on the device, so it is escaped once per device and cached. Per batch, rows are grouped
by which fields they carry; each group becomes ``(template * rows) % values`` — string
formatting in C, no Python loop per reading.

Floats are written with ``repr`` (shortest round-trip: ``72.0``, ``1e-05``), which
InfluxDB 1.x and 2.x parse; NaN (= not reported) fields are left out and a row with no
field at all is skipped, since a line needs at least one field.

Escaping (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
commas and spaces in the measurement, and commas, equals signs and spaces in tag keys
and values, get a backslash. Line protocol cannot carry a newline, and a backslash
before a separator has no escape that InfluxDB 1.x understands, so control characters
become spaces and backslashes become ``/``. An empty tag value leaves the tag out.

>>> escape_tag("Jiefangbei North, 解放碑=1")
'Jiefangbei\\\\ North\\\\,\\\\ 解放碑\\\\=1'
>>> import numpy as np
>>> from core.batch import ReadingBatch
>>> enc = LineEncoder(["wb-1", "wb-2"], ["g 1", "g-2"])
>>> b = ReadingBatch("wearable", np.array([0, 1]), np.array([1000, 2000]),
...                  {"heart_rate": np.array([72.0, 61.5]), "spo2": np.array([97.0, np.nan])})
>>> print(enc.encode(b).decode(), end="")
wearable,device_id=wb-2,grid_id=g-2 heart_rate=61.5 2000
wearable,device_id=wb-1,grid_id=g\\ 1 heart_rate=72.0,spo2=97.0 1000
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from core.batch import ReadingBatch
from core.city import City

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG_SPECIAL = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\\": "/"})
_MEASUREMENT_SPECIAL = str.maketrans({",": "\\,", " ": "\\ ", "\\": "/"})


def escape_tag(value: str) -> str:
    """A tag key or value escaped for line protocol."""
    return _CONTROL.sub(" ", value).translate(_TAG_SPECIAL)


def escape_measurement(value: str) -> str:
    return _CONTROL.sub(" ", value).translate(_MEASUREMENT_SPECIAL)


class LineEncoder:
    """Encodes ``ReadingBatch`` rows of one city as line protocol bytes.

    ``device_ids[slot]`` and ``grid_ids[slot]`` give each device's tags; series keys
    are built on first use and kept, so a city of a million devices costs nothing
    until its devices report.
    """

    def __init__(self, device_ids: Sequence[str], grid_ids: Sequence[str]) -> None:
        self._device_ids = device_ids
        self._grid_ids = grid_ids
        self._keys: dict[str, list[str | None]] = {}

    @classmethod
    def for_city(cls, city: City) -> LineEncoder:
        grid_of = city.grids.ids[city.devices.grid]
        return cls(city.devices.ids, grid_of)

    def _series_keys(self, kind: str, slots: list[int]) -> list[str]:
        cache = self._keys.get(kind)
        if cache is None:
            cache = self._keys[kind] = [None] * len(self._device_ids)
        keys = list(map(cache.__getitem__, slots))
        if None in keys:
            measurement = escape_measurement(kind)
            for s in set(slots):
                if cache[s] is None:
                    tags = [("device_id", str(self._device_ids[s])), ("grid_id", str(self._grid_ids[s]))]
                    cache[s] = measurement + "".join(f",{k}={escape_tag(v)}" for k, v in tags if v)
            keys = list(map(cache.__getitem__, slots))
        return keys

    def encode(self, batch: ReadingBatch) -> bytes:
        """The batch as line protocol (``\\n``-terminated lines); b"" if nothing to write."""
        n = len(batch)
        if n == 0:
            return b""
        names = [f for f, col in batch.values.items() if len(col)]
        if not names:
            return b""
        matrix = np.column_stack([batch.values[f] for f in names])
        present = ~np.isnan(matrix)
        pattern = present @ (1 << np.arange(len(names), dtype=np.int64))
        keys = self._series_keys(batch.kind, batch.device.tolist())
        parts: list[str] = []
        patterns = np.unique(pattern)
        for p in patterns.tolist():
            if p == 0:
                continue  # a line needs a field
            rows = np.flatnonzero(pattern == p) if len(patterns) > 1 else np.arange(n)
            cols = [i for i in range(len(names)) if p >> i & 1]
            template = "%s " + ",".join(f"{escape_tag(names[i])}=%r" for i in cols) + " %d\n"
            table = np.empty((len(rows), len(cols) + 2), dtype=object)
            table[:, 0] = keys if len(rows) == n else [keys[i] for i in rows.tolist()]
            table[:, 1:-1] = matrix[np.ix_(rows, cols)].tolist()
            table[:, -1] = batch.ts[rows].tolist()
            parts.append((template * len(rows)) % tuple(table.ravel().tolist()))
        return "".join(parts).encode()
