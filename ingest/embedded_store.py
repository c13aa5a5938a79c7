"""The embedded store: readings in local columnar files when no InfluxDB is configured.

Each commit writes one segment per kind, ``<dir>/<kind>/<seq>_<min ts>_<max ts>_<rows>.npz``:
numpy columns ``dev`` (index into the segment's ``ids``), ``ts`` and one float64 column
per field (NaN = not reported). Device *ids*, not slots, are stored, so the store
survives a change of the city directory. A segment is written to a temporary file,
fsync'd and renamed, so a crash leaves whole segments only. Small segments are merged
(sorted, deduplicated) once 32 of a kind pile up, so a long run does not leave a file
per second.

``read`` gives the readings back in time order, one kind at a time per time window,
deduplicated on (device, ts) with the last write winning — a resent reading is
stored once. Replay reads this at millions of readings per second.

>>> import tempfile, numpy as np
>>> from core.city import load_city
>>> city = load_city("tests/data/city-small")
>>> store = EmbeddedStore(tempfile.mkdtemp(), city)
>>> b = ReadingBatch("wearable", np.array([0, 0, 1]), np.array([2000, 1000, 1000]),
...                  {"heart_rate": np.array([70.0, 71.0, 60.0])})
>>> store.append([b]); store.append([b.take(np.array([0]))])
>>> [(x.kind, x.ts.tolist(), x.device.tolist()) for x in store.read(0, 10_000)]
[('wearable', [1000, 1000, 2000], [0, 1, 0])]
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.batch import ReadingBatch
from core.city import City
from core.kinds import KINDS, field_names

log = logging.getLogger(__name__)

COMPACT_AFTER = 32  # small segments of a kind before they are merged
SMALL_ROWS = 200_000  # a segment below this is "small"
WINDOW_ROWS = 1_000_000  # rows a read window aims at


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    seq: int
    min_ts: int
    max_ts: int
    rows: int

    @classmethod
    def parse(cls, path: Path) -> Segment | None:
        try:
            seq, lo, hi, rows = path.stem.split("_")[:4]  # merged segments carry a fifth part, "m"
            return cls(path, int(seq), int(lo), int(hi), int(rows))
        except ValueError:
            return None


class EmbeddedStore:
    """Append batches, read them back by time range; one writer thread, any readers."""

    def __init__(self, directory: str | os.PathLike, city: City) -> None:
        self.dir = Path(directory)
        self.city = city
        self._lock = threading.Lock()
        for kind in KINDS:
            (self.dir / kind).mkdir(parents=True, exist_ok=True)
            for tmp in (self.dir / kind).glob("*.tmp"):
                tmp.unlink()
        self._seq = max((s.seq for k in KINDS for s in self.segments(k)), default=0)

    @classmethod
    def open(cls, data_dir: str | os.PathLike, city: City | None = None) -> EmbeddedStore:
        """The store of a data directory (``<data_dir>/store``), as ``gridwatch run`` writes it.

        Without ``city``, the built-in demo town of ``data_dir`` is used (what ``gridwatch
        run`` without ``--city`` ingests with); pass the city the readings belong to otherwise.
        """
        if city is None:
            from core.city import load_city

            builtin = Path(data_dir) / "city"
            if not (builtin / "devices.csv").is_file():
                raise ValueError(f"no city given and no built-in city in {data_dir}: pass the city")
            city = load_city(builtin)
        return cls(Path(data_dir) / "store", city)

    def close(self) -> None:
        """Nothing to release (files are opened per read); for symmetry with other sources."""

    def segments(self, kind: str) -> list[Segment]:
        found = (Segment.parse(p) for p in (self.dir / kind).glob("*.npz"))
        return sorted((s for s in found if s is not None), key=lambda s: (s.seq, s.rows))

    # ------------------------------------------------------------------ writing

    def append(self, batches: Sequence[ReadingBatch]) -> None:
        """Store ``batches`` durably (fsync'd) before returning."""
        by_kind: dict[str, list[ReadingBatch]] = {}
        for b in batches:
            if len(b):
                by_kind.setdefault(b.kind, []).append(b)
        with self._lock:
            for kind, group in by_kind.items():
                batch = group[0] if len(group) == 1 else ReadingBatch.concat(group)
                self._seq += 1
                self._write(kind, self._seq, batch)
            for kind in by_kind:
                self._maybe_compact(kind)

    def _write(self, kind: str, seq: int, batch: ReadingBatch, suffix: str = "") -> Path:
        uniq, dev = np.unique(batch.device, return_inverse=True)
        cols = {f: batch.column(f).astype(np.float64) for f in field_names(kind)}
        ids = np.asarray(self.city.devices.ids[uniq], dtype=str)
        name = f"{seq:010d}_{int(batch.ts.min())}_{int(batch.ts.max())}_{len(batch)}{suffix}"
        tmp = self.dir / kind / (name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(fh, ids=ids, dev=dev.astype(np.int32), ts=batch.ts.astype(np.int64), **cols)
            fh.flush()
            os.fsync(fh.fileno())
        path = self.dir / kind / (name + ".npz")
        tmp.rename(path)
        _fsync_dir(self.dir / kind)
        return path

    def _maybe_compact(self, kind: str) -> None:
        small = [s for s in self.segments(kind) if s.rows < SMALL_ROWS]
        if len(small) < COMPACT_AFTER:
            return
        chosen, rows = [], 0
        for s in small:
            chosen.append(s)
            rows += s.rows
            if rows >= WINDOW_ROWS:
                break
        merged = _dedup(self._load(kind, chosen))
        # the newest input's seq keeps last-write-wins order against later segments
        kept = self._write(kind, chosen[-1].seq, merged, "_m") if len(merged) else None
        for s in chosen:
            if s.path != kept:
                s.path.unlink(missing_ok=True)
        _fsync_dir(self.dir / kind)

    # ------------------------------------------------------------------ reading

    def read(self, start_ms: int, end_ms: int, kinds: Sequence[str] | None = None) -> Iterator[ReadingBatch]:
        """Readings with ``start_ms <= ts < end_ms``, time-ordered windows, one batch per kind each."""
        per_kind = {k: [s for s in self.segments(k) if s.max_ts >= start_ms and s.min_ts < end_ms]
                    for k in (kinds or KINDS)}
        segs = [s for ss in per_kind.values() for s in ss]
        if not segs:
            return
        lo = max(start_ms, min(s.min_ts for s in segs))
        hi = min(end_ms, max(s.max_ts for s in segs) + 1)
        density = sum(s.rows for s in segs) / max(1, hi - lo)
        span = max(1000, int(WINDOW_ROWS / max(density, 1e-9)))
        cache: dict[Path, ReadingBatch] = {}
        for w0 in range(lo, hi, span):
            w1 = min(w0 + span, hi)
            for kind, ss in per_kind.items():
                window = [s for s in ss if s.max_ts >= w0 and s.min_ts < w1]
                parts = []
                for s in window:
                    if s.path not in cache:
                        cache[s.path] = self._load(kind, [s])
                    b = cache[s.path]
                    parts.append(b.take((b.ts >= w0) & (b.ts < w1)))
                for s in window:
                    if s.max_ts < w1:
                        cache.pop(s.path, None)
                if parts:
                    batch = _dedup(ReadingBatch.concat(parts))
                    if len(batch):
                        yield batch

    def _load(self, kind: str, segments: Sequence[Segment]) -> ReadingBatch:
        """Segments (in seq order) as one batch of current device slots; unknown devices dropped."""
        parts = []
        for s in segments:
            try:
                with np.load(s.path) as z:
                    slots = self.city.devices.slots(z["ids"].tolist())[z["dev"]]
                    keep = slots >= 0
                    if not keep.all():
                        log.warning("store: %s: %d readings of devices no longer in the city skipped",
                                    s.path.name, int((~keep).sum()))
                    values = {f: z[f][keep] for f in field_names(kind) if f in z.files}
                    parts.append(ReadingBatch(kind, slots[keep], z["ts"][keep], values))
            except FileNotFoundError:  # merged away while we listed: its rows are in the merged segment
                continue
        return ReadingBatch.concat(parts) if parts else ReadingBatch.empty(kind)


def _dedup(batch: ReadingBatch) -> ReadingBatch:
    """Sorted by (ts, device); of rows with the same (device, ts) the last one wins."""
    if len(batch) < 2:
        return batch
    order = np.lexsort((np.arange(len(batch)), batch.device, batch.ts))
    dev, ts = batch.device[order], batch.ts[order]
    last = np.ones(len(order), bool)
    last[:-1] = (dev[1:] != dev[:-1]) | (ts[1:] != ts[:-1])
    return batch.take(order[last])


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
