"""InfluxDB line protocol for whole batches.

A line is ``<kind>,device_id=<id>,grid_id=<grid> <field>=<value>,... <ts>`` with the
timestamp in milliseconds (written with ``precision=ms``), so a reading sent twice is
the same point and overwrites itself.

Formatting a float in Python costs more than everything else the hot path does for a
reading, so the lines are written in C (``ingest/_lines.c``), a whole batch per call;
this module keeps what is per device or per field: each device's escaped series key,
built on its first reading and kept in a byte matrix indexed by slot, and each field's
escaped ``name=``. Numbers are written per column with the fewest fractional digits
(at most six) that give every value back as exactly the same double (sensor values are
such decimals: 72, 97.5, 2.37), trailing zeros dropped; any other value (1/3, 1e300)
is written as ``repr``, which is exact too. NaN (= not reported) fields are left out;
a row with no field at all is skipped, since a line needs at least one field.

Escaping (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
commas and spaces in the measurement, and commas, equals signs and spaces in tag keys
and values, get a backslash. Line protocol cannot carry a newline, and a backslash
before a separator has no escape that InfluxDB 1.x understands, so control characters
become spaces and backslashes become ``/``. An empty tag value leaves the tag out.

>>> escape_tag("Jiefangbei North, 解放碑=1")
'Jiefangbei\\\\ North\\\\,\\\\ 解放碑\\\\=1'
>>> from core.batch import ReadingBatch
>>> enc = LineEncoder(["wb-1", "wb-2"], ["g 1", "g-2"])
>>> b = ReadingBatch("wearable", np.array([0, 1]), np.array([1000, 2000]),
...                  {"heart_rate": np.array([72.0, 61.5]), "spo2": np.array([97.0, np.nan])})
>>> print(enc.encode(b).decode(), end="")
wearable,device_id=wb-1,grid_id=g\\ 1 heart_rate=72,spo2=97 1000
wearable,device_id=wb-2,grid_id=g-2 heart_rate=61.5 2000
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from core.batch import ReadingBatch
from core.city import City
from ingest.native import encode_lines

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
    are built on a device's first reading and kept, so a city of a million devices
    costs nothing until its devices report. Batches come from the pipeline, so a
    device's rows always carry its own kind.
    """

    def __init__(self, device_ids: Sequence[str], grid_ids: Sequence[str]) -> None:
        self._device_ids = device_ids
        self._grid_ids = grid_ids
        n = len(device_ids)
        self._keys = np.zeros((n, 64), np.uint8)  # untouched rows cost no memory (calloc)
        self._key_len = np.zeros(n, np.int64)
        self._labels: dict[str, bytes] = {}

    @classmethod
    def for_city(cls, city: City) -> LineEncoder:
        grid_of = city.grids.ids[city.devices.grid]
        return cls(city.devices.ids, grid_of)

    def series_key(self, kind: str, slot: int) -> bytes:
        tags = [("device_id", str(self._device_ids[slot])), ("grid_id", str(self._grid_ids[slot]))]
        key = escape_measurement(kind) + "".join(f",{k}={escape_tag(v)}" for k, v in tags if v)
        return key.encode()

    def _ensure_keys(self, kind: str, slots: np.ndarray) -> None:
        """Build the series keys of devices reporting for the first time."""
        missing = self._key_len[slots] == 0
        if not missing.any():
            return
        for s in np.unique(slots[missing]).tolist():
            key = self.series_key(kind, s)
            if len(key) > self._keys.shape[1]:
                wider = np.zeros((len(self._keys), max(len(key), 2 * self._keys.shape[1])), np.uint8)
                wider[:, : self._keys.shape[1]] = self._keys
                self._keys = wider
            self._keys[s, : len(key)] = np.frombuffer(key, np.uint8)
            self._key_len[s] = len(key)

    def encode(self, batch: ReadingBatch) -> bytes:
        """The batch as line protocol (``\\\\n``-terminated lines); b"" if nothing to write."""
        if len(batch) == 0:
            return b""
        slots = np.ascontiguousarray(batch.device, np.int64)
        self._ensure_keys(batch.kind, slots)
        fields = [(self._label(name), np.ascontiguousarray(col, np.float64)) for name, col in batch.values.items()]
        return encode_lines(self._keys, self._keys.shape[1], self._key_len, slots,
                            np.ascontiguousarray(batch.ts, np.int64), fields)

    def _label(self, name: str) -> bytes:
        label = self._labels.get(name)
        if label is None:
            label = self._labels[name] = (escape_tag(name) + "=").encode()
        return label
