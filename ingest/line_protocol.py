"""InfluxDB line protocol for whole batches, built as a byte matrix with numpy.

A line is ``<kind>,device_id=<id>,grid_id=<grid> <field>=<value>,... <ts>`` with the
timestamp in milliseconds (written with ``precision=ms``), so a reading sent twice is
the same point and overwrites itself.

Formatting a float in Python costs more than everything else the hot path does for a
reading, so nothing here runs per reading in Python. A batch becomes one ``uint8``
matrix with a row per line, made of column segments — the device's series key (escaped
once per device and kept in a matrix indexed by device slot), each field's ``,name=``
and digits, the timestamp's digits — and a mask of the bytes each row really uses;
``matrix[mask]`` is the body. Numbers are written as the shortest decimal with at most
six fractional digits that parses back to exactly the same double (sensor values are
such decimals: 72, 97.5, 2.37); any other value (1/3, 1e300) falls back to ``repr``,
which is exact too. NaN (= not reported) fields are left out; a row with no field at
all is skipped, since a line needs at least one field.

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
from core.kinds import KINDS

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG_SPECIAL = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\\": "/"})
_MEASUREMENT_SPECIAL = str.maketrans({",": "\\,", " ": "\\ ", "\\": "/"})

_FRACTION_DIGITS = 6
_SCALE = 10.0 ** np.arange(_FRACTION_DIGITS + 1)
_POW10 = 10 ** np.arange(19, dtype=np.int64)  # 1 .. 10**18
_FOUR_DIGITS = np.array([list(b"%04d" % i) for i in range(10_000)], np.uint8)
_EXACT_INT = 2.0**53
_EIGHT = 10**8


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

    def __init__(self, device_ids: Sequence[str], grid_ids: Sequence[str], kinds: Sequence[str] | None = None) -> None:
        self._device_ids = device_ids
        self._grid_ids = grid_ids
        n = len(device_ids)
        self._keys = np.zeros((n, 64), np.uint8)  # untouched rows cost no memory (calloc)
        self._key_len = np.zeros(n, np.int64)
        self._kind_of = kinds

    @classmethod
    def for_city(cls, city: City) -> LineEncoder:
        grid_of = city.grids.ids[city.devices.grid]
        return cls(city.devices.ids, grid_of, [KINDS[k] for k in city.devices.kind.tolist()])

    def series_key(self, kind: str, slot: int) -> bytes:
        tags = [("device_id", str(self._device_ids[slot])), ("grid_id", str(self._grid_ids[slot]))]
        key = escape_measurement(kind) + "".join(f",{k}={escape_tag(v)}" for k, v in tags if v)
        return key.encode()

    def _key_rows(self, kind: str, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lens = self._key_len[slots]
        if not lens.all():
            for s in np.unique(slots[lens == 0]).tolist():
                key = self.series_key(kind, s)
                if len(key) > self._keys.shape[1]:
                    wider = np.zeros((len(self._keys), max(len(key), 2 * self._keys.shape[1])), np.uint8)
                    wider[:, : self._keys.shape[1]] = self._keys
                    self._keys = wider
                self._keys[s, : len(key)] = np.frombuffer(key, np.uint8)
                self._key_len[s] = len(key)
            lens = self._key_len[slots]
        width = int(lens.max())
        return self._keys[slots, :width], np.arange(width) < lens[:, None]

    def encode(self, batch: ReadingBatch) -> bytes:
        """The batch as line protocol (``\\\\n``-terminated lines); b"" if nothing to write."""
        n = len(batch)
        if n == 0:
            return b""
        present = {f: ~np.isnan(c) for f, c in batch.values.items() if len(c)}
        present = {f: p for f, p in present.items() if p.any()}
        if not present:
            return b""
        keys, key_mask = self._key_rows(batch.kind, batch.device)
        any_field = np.zeros(n, bool)
        parts: list[tuple[np.ndarray, np.ndarray]] = [(keys, key_mask), _const(b" ", n)]
        for name, here in present.items():
            comma, comma_mask = _const(b",", n)
            parts.append((comma, comma_mask & (here & any_field)[:, None]))
            label = _const((escape_tag(name) + "=").encode(), n)
            parts.append((label[0], label[1] & here[:, None]))
            parts.extend(_number_segments(batch.values[name], here))
            any_field |= here
        parts += [_const(b" ", n), _digits(batch.ts), _const(b"\n", n)]
        matrix = np.concatenate([p[0] for p in parts], axis=1)
        mask = np.concatenate([p[1] for p in parts], axis=1)
        mask &= any_field[:, None]
        return matrix[mask].tobytes()


def _const(text: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    row = np.frombuffer(text, np.uint8)
    return np.broadcast_to(row, (n, len(row))), np.ones((n, len(row)), bool)


def _digits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal digits of non-negative int64 values: (ASCII matrix, most significant first;
    mask without leading zeros). Four digits at a time, from a table."""
    rest = values.astype(np.int64)
    if len(rest) > 1:
        head = _shared_head(rest)
        if head is not None:
            return head
    chunks = []
    while True:
        rest, low = np.divmod(rest, 10_000)
        chunks.append(_FOUR_DIGITS[low])
        if not rest.any():
            break
    digits = np.concatenate(chunks[::-1], axis=1) if len(chunks) > 1 else chunks[0]
    width = digits.shape[1]
    count = np.maximum(1, np.searchsorted(_POW10, values, side="right"))
    return digits, np.arange(width) >= (width - count)[:, None]


def _shared_head(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``_digits`` for values that agree above their last eight digits (a batch's timestamps
    in milliseconds share all but the last ~28 hours): the shared head written once, the
    last eight digits in two table lookups; None when they do not agree."""
    high = int(values[0]) // _EIGHT
    tail = values - high * _EIGHT  # no overflow: high * 10**8 <= values[0]
    if high <= 0 or not ((tail >= 0) & (tail < _EIGHT)).all():
        return None
    rest, low4 = np.divmod(tail, 10_000)
    head = np.frombuffer(b"%d" % high, np.uint8)
    n = len(values)
    digits = np.concatenate([np.broadcast_to(head, (n, len(head))), _FOUR_DIGITS[rest], _FOUR_DIGITS[low4]], axis=1)
    return digits, np.ones(digits.shape, bool)


def _number_segments(col: np.ndarray, here: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Segments writing ``col`` where ``here``: sign, digits, point, fraction, fallback.

    The column is written with ``places`` fractional digits, the fewest that give every
    value back exactly (sensor values rarely need more than two); trailing zeros are
    masked off per row, and values no six digits can give back go to a ``repr`` fallback.
    """
    n = len(col)
    a = np.abs(np.where(here, col, 0.0))
    for places in range(_FRACTION_DIGITS + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.round(a * _SCALE[places])
            exact = (scaled < _EXACT_INT) & (scaled / _SCALE[places] == a)
        if exact.all():
            break
    exact &= here
    m = np.where(exact, scaled, 0.0).astype(np.int64)
    digits, _ = _digits(m)
    width = digits.shape[1]
    zeros = np.zeros(n, np.int64)  # trailing zeros of the fraction, to mask off
    for j in range(1, places + 1):
        zeros += (m % _POW10[j]) == 0
    shown = places - zeros
    count = np.maximum(1, np.searchsorted(_POW10, m, side="right"))
    int_count = np.maximum(1, count - places)
    pos = np.arange(width)
    int_cols, frac_cols = slice(0, width - places), slice(width - places, width)
    sign, sign_mask = _const(b"-", n)
    point, point_mask = _const(b".", n)
    if width < places + 1:  # all values below 1: pad with zeros up to "0." and the fraction
        digits = np.concatenate([np.full((n, places + 1 - width), 48, np.uint8), digits], axis=1)
        width, pos = places + 1, np.arange(places + 1)
        int_cols, frac_cols = slice(0, 1), slice(1, width)
    int_mask = pos[int_cols] >= (width - places - int_count)[:, None]
    segments = [
        (sign, sign_mask & (exact & (col < 0))[:, None]),
        (digits[:, int_cols], int_mask & exact[:, None]),
    ]
    if places:
        segments += [
            (point, point_mask & (exact & (shown > 0))[:, None]),
            (digits[:, frac_cols], (np.arange(places) < shown[:, None]) & exact[:, None]),
        ]
    inexact = here & ~exact
    if inexact.any():
        text = np.full(n, b"", dtype=object)
        text[inexact] = [repr(v).encode() for v in col[inexact].tolist()]
        fixed = text.astype(bytes)
        lens = np.fromiter(map(len, text.tolist()), np.int64, n)
        segments.append((fixed.view(np.uint8).reshape(n, fixed.dtype.itemsize),
                         np.arange(fixed.dtype.itemsize) < lens[:, None]))
    return segments
