"""The embedded store: durable segments, time order, dedup, compaction, city changes."""

from __future__ import annotations

import numpy as np

from core.batch import ReadingBatch
from ingest import embedded_store
from ingest.embedded_store import EmbeddedStore
from tests.ingest.support import make_city


def wear(slots, ts, hr) -> ReadingBatch:
    n = len(slots)
    return ReadingBatch("wearable", np.array(slots), np.array(ts), {
        "heart_rate": np.array(hr, float), "spo2": np.full(n, np.nan)})


def test_read_is_time_ordered_deduplicated_last_write_wins(tmp_path, small_city):
    store = EmbeddedStore(tmp_path, small_city)
    store.append([wear([0, 1, 0], [3000, 1000, 1000], [72, 60, 70])])
    store.append([wear([0], [1000], [71])])  # resent with a correction: the later write wins
    store.append([ReadingBatch("river_gauge", np.array([9]), np.array([500]), {"level": np.array([2.5])})])
    out = list(store.read(0, 10_000))
    assert [b.kind for b in out] == ["wearable", "river_gauge"]
    w = out[0]
    assert w.ts.tolist() == [1000, 1000, 3000]
    assert w.device.tolist() == [0, 1, 0]
    assert w.column("heart_rate").tolist() == [71.0, 60.0, 72.0]
    assert list(store.read(1001, 3000)) == []
    assert [len(b) for b in store.read(0, 10_000, kinds=["river_gauge"])] == [1]


def test_compaction_keeps_every_reading_once(tmp_path, small_city, monkeypatch):
    monkeypatch.setattr(embedded_store, "COMPACT_AFTER", 4)
    store = EmbeddedStore(tmp_path, small_city)
    for i in range(10):
        store.append([wear([0, 1], [i * 1000, i * 1000], [60 + i, 60 + i])])
        store.append([wear([0], [i * 1000], [80 + i])])  # duplicates across segments
    assert len(store.segments("wearable")) < 8
    [b] = list(store.read(0, 100_000))
    assert len(b) == 20
    assert b.column("heart_rate")[b.device == 0].tolist() == [80.0 + i for i in range(10)]


def test_survives_a_new_city_and_windows_large_reads(tmp_path, small_city, monkeypatch):
    monkeypatch.setattr(embedded_store, "WINDOW_ROWS", 1000)
    store = EmbeddedStore(tmp_path, small_city)
    ts = np.arange(5000) * 10
    store.append([wear(np.arange(5000) % 2, ts, np.full(5000, 70.0))])
    ids = [str(small_city.devices.ids[1]), "someone-else"]
    reopened = EmbeddedStore(tmp_path, make_city(ids, ["wearable", "wearable"], [0, 0], ["g"]))
    batches = list(reopened.read(0, 10**9))
    assert len(batches) > 3  # windows of ~1000 rows, in time order
    got = np.concatenate([b.ts for b in batches])
    assert (np.diff(got) > 0).all() and len(got) == 2500  # device 0 is gone from the city; 1 is slot 0
    assert set(np.concatenate([b.device for b in batches]).tolist()) == {0}
