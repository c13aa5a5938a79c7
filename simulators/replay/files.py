"""Exported readings as files: CSV (one row per reading) or JSON Lines.

CSV header ``ts,device_id,kind,<fields of every kind>``; an empty cell is a field the
reading did not carry. JSONL: ``{"ts": ms, "device_id": "...", "values": {...}}`` per
line (the MQTT device payload plus its device id). Rows of devices the city does not
know are skipped and counted, never fatal.

>>> import io, numpy as np
>>> from core.city import load_city
>>> city = load_city("tests/data/city-small")
>>> b = ReadingBatch("wearable", np.array([0]), np.array([5000]), {"heart_rate": np.array([71.0])})
>>> buf = io.StringIO(); write_csv(buf, [b], city, header=True)
1
>>> buf.getvalue().splitlines()[1][:26]
'5000,wb-0001,wearable,71,,'
>>> [(x.kind, x.ts.tolist()) for x in read_rows(csv_rows(io.StringIO(buf.getvalue())), city, 0, 10_000, Counter())]
[('wearable', [5000])]
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from core.batch import ReadingBatch
from core.city import City
from core.kinds import KINDS, field_names

ALL_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for k in KINDS for f in field_names(k)))
CHUNK = 50_000


def _cell(v: float) -> str:
    if v != v:
        return ""
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def write_csv(fh: IO[str], batches: Sequence[ReadingBatch], city: City, header: bool = False) -> int:
    w = csv.writer(fh, lineterminator="\n")
    if header:
        w.writerow(["ts", "device_id", "kind", *ALL_FIELDS])
    n = 0
    for b in batches:
        cols = [b.values[f].tolist() if f in b.values else None for f in ALL_FIELDS]
        ids = city.devices.ids[b.device]
        for r, (dev, ts) in enumerate(zip(ids.tolist(), b.ts.tolist(), strict=True)):
            w.writerow([ts, dev, b.kind, *("" if c is None else _cell(c[r]) for c in cols)])
        n += len(b)
    return n


def write_jsonl(fh: IO[bytes], batches: Sequence[ReadingBatch], city: City) -> int:
    n = 0
    for b in batches:
        names = list(b.values)
        cols = [b.values[f].tolist() for f in names]
        for r, (dev, ts) in enumerate(zip(city.devices.ids[b.device].tolist(), b.ts.tolist(), strict=True)):
            vals = {f: c[r] for f, c in zip(names, cols, strict=True) if c[r] == c[r]}
            fh.write(orjson.dumps({"ts": ts, "device_id": dev, "values": vals}) + b"\n")
        n += len(b)
    return n


def csv_rows(fh: IO[str]) -> Iterator[tuple[int, str, dict[str, float]]]:
    reader = csv.reader(fh)
    header = next(reader)
    fields = [(i, h) for i, h in enumerate(header) if h not in ("ts", "device_id", "kind")]
    ts_i, dev_i = header.index("ts"), header.index("device_id")
    for row in reader:
        yield int(row[ts_i]), row[dev_i], {h: float(row[i]) for i, h in fields if row[i] != ""}


def jsonl_rows(fh: IO[bytes]) -> Iterator[tuple[int, str, dict[str, float]]]:
    for line in fh:
        if line.strip():
            obj: dict[str, Any] = orjson.loads(line)
            yield int(obj["ts"]), str(obj["device_id"]), {k: float(v) for k, v in obj["values"].items()}


def _batch(kind: str, rows: list[tuple[int, int, dict[str, float]]]) -> ReadingBatch:
    names = field_names(kind)
    values = {f: np.array([r[2].get(f, np.nan) for r in rows], np.float64) for f in names}
    return ReadingBatch(kind, np.array([r[1] for r in rows], np.int64), np.array([r[0] for r in rows], np.int64),
                        values)


def read_rows(rows: Iterable[tuple[int, str, dict[str, float]]], city: City, start_ms: int, end_ms: int,
              counts: Counter[str]) -> Iterator[ReadingBatch]:
    """Batches (per kind, up to ``CHUNK`` rows) of the rows in [start_ms, end_ms) of known devices."""
    pending: dict[str, list[tuple[int, int, dict[str, float]]]] = {k: [] for k in KINDS}
    slot_of, kinds = city.devices.index, city.devices.kind
    for ts, dev, vals in rows:
        if not start_ms <= ts < end_ms:
            continue
        slot = slot_of.get(dev, -1)
        if slot < 0:
            counts["unknown_device"] += 1
            continue
        kind = KINDS[kinds[slot]]
        pending[kind].append((ts, slot, vals))
        if len(pending[kind]) >= CHUNK:
            yield _batch(kind, pending[kind])
            pending[kind] = []
    for kind, rs in pending.items():
        if rs:
            yield _batch(kind, rs)


def read_file(path: Path, city: City, start_ms: int, end_ms: int, counts: Counter[str]) -> Iterator[ReadingBatch]:
    """Readings of an exported ``.csv`` or ``.jsonl`` file in the window."""
    if path.suffix == ".jsonl":
        with path.open("rb") as fh:
            yield from read_rows(jsonl_rows(fh), city, start_ms, end_ms, counts)
    else:
        with path.open(newline="", encoding="utf-8") as fh:
            yield from read_rows(csv_rows(fh), city, start_ms, end_ms, counts)
