"""Detector throughput on recorded batches, all kinds mixed, and memory per device.

Builds an in-memory city (default 1,000,000 devices: 40 % wearables, 30 % smoke
sensors, 5 % river gauges, 25 % meters), records batches of plausible readings
(each device reporting in turn, as gateways deliver them), warms the engine up,
then times ``DetectorEngine.process`` over the recorded batches on one thread.

    .venv/bin/python benchmarks/detectors.py                 # 1M devices
    .venv/bin/python benchmarks/detectors.py --quick         # 200k devices, fewer batches
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# this file is named like the package it measures: keep benchmarks/ off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: no BLAS/OpenMP threads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from core.batch import ReadingBatch  # noqa: E402
from core.city import City, Devices, Grids, Workers  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.kinds import KINDS  # noqa: E402
from detectors.config import DetectorConfig  # noqa: E402
from detectors.engine import DetectorEngine  # noqa: E402

SHARE = {"wearable": 0.40, "smoke": 0.30, "river_gauge": 0.05, "meter": 0.25}
T0 = 1_732_233_600_000


def synthetic_city(n: int, share: dict[str, float] | None = None) -> City:
    """A city of ``n`` devices in 1,000 grids (kinds in ``share`` proportions), columns only (no CSV)."""
    share = share or SHARE
    g = 1000
    gids = np.array([f"g-{i:05d}" for i in range(g)], dtype=object)
    grids = Grids(gids, {s: i for i, s in enumerate(gids)}, {}, gids, gids, np.full(g, 29.56), np.full(g, 106.55))
    ids = np.array([f"d-{i:07d}" for i in range(n)], dtype=object)
    counts = [int(share.get(k, 0) * n) for k in KINDS]
    counts[int(np.argmax(counts))] += n - sum(counts)
    kind = np.repeat(np.arange(len(KINDS), dtype=np.int8), counts)
    params = {"warning_level": np.where(kind == 2, 4.5, np.nan), "guarantee_level": np.where(kind == 2, 6.0, np.nan)}
    devices = Devices(ids, {s: i for i, s in enumerate(ids)}, {}, kind, (np.arange(n) % g).astype(np.int32),
                      np.full(n, 29.56), np.full(n, 106.55), params)
    workers = Workers(np.empty(0, object), {})
    return City(grids, devices, workers, {})


def values(kind: str, m: int, rng: np.random.Generator, step: int) -> dict[str, np.ndarray]:
    if kind == "wearable":
        return {"heart_rate": 72 + rng.normal(0, 3, m), "spo2": 97 + rng.normal(0, 1, m), "fall": np.zeros(m),
                "battery": np.full(m, 80.0)}
    if kind == "smoke":
        return {"smoke": np.abs(rng.normal(0.4, 0.2, m)), "temperature": 22 + rng.normal(0, 0.3, m),
                "co": np.abs(rng.normal(2, 1, m)), "battery": np.full(m, 90.0)}
    if kind == "river_gauge":
        return {"level": 3 + rng.normal(0, 0.01, m), "rain": np.zeros(m)}
    return {"power_kw": 60 + rng.normal(0, 5, m), "energy_kwh": np.full(m, 1e5 + step * 10.0)}


def record(city: City, batch: int, rounds: int, seed: int = 1) -> list[ReadingBatch]:
    """``rounds`` passes over every device, cut into batches of ``batch`` readings of one kind."""
    rng = np.random.default_rng(seed)
    out = []
    for kind_code, kind in enumerate(KINDS):
        slots = np.flatnonzero(city.devices.kind == kind_code)
        for r in range(rounds):
            order = rng.permutation(slots)
            for a in range(0, len(order), batch):
                dev = order[a : a + batch]
                ts = T0 + r * 60_000 + rng.integers(0, 50_000, len(dev))
                out.append(ReadingBatch(kind, dev, ts, values(kind, len(dev), rng, r)))
    by_time = sorted(range(len(out)), key=lambda i: (int(out[i].ts.min()) // 60_000, i % 7))
    return [out[i] for i in by_time]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, nargs="+", default=[1000, 10_000, 50_000], help="readings per batch")
    ap.add_argument("--rounds", type=int, default=4, help="readings per device in the timed part")
    ap.add_argument("--quick", action="store_true", help="200k devices, 2 rounds (a minute on a shared machine)")
    args = ap.parse_args()
    if args.quick:
        args.devices, args.rounds = 200_000, 2
    print(f"building a city of {args.devices:,} devices ...", flush=True)
    city = synthetic_city(args.devices)
    for size in args.batch:
        engine = DetectorEngine(city, DetectorConfig(), ManualClock())
        for b in record(city, size, 1, seed=0):  # warm-up pass: allocate, first readings
            engine.process(b)
        batches = record(city, size, args.rounds)
        for b in batches:
            b.ts += 600_000
        n = sum(len(b) for b in batches)
        t0 = time.process_time()
        events = sum(len(engine.process(b)) for b in batches)
        cpu = time.process_time() - t0
        print(f"batch {size:>6,}: {n:,} readings in {cpu:.2f} s CPU = {n / cpu:,.0f} readings/s "
              f"({len(batches)} batches, {events} alert events)", flush=True)
        engine.close()
    per = engine.bytes_per_device()
    print("state per device (bytes): " + ", ".join(f"{k} {v:.0f}" for k, v in per.items()))
    print(f"engine state total: {engine.state_bytes() / 2**20:.1f} MiB for {args.devices:,} devices "
          f"({engine.state_bytes() / args.devices:.0f} B/device incl. shared models)")
    print("(2-core machine shared with four other engineers: CPU time of this process, not wall time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
