"""The contract every detector keeps, run over all of them (River's check suite, on batches)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from detectors.config import DetectorConfig
from detectors.iforest import IForest
from detectors.pipeline import KindPipeline
from detectors.registry import DETECTORS
from tests.detectors.support import T0, make

DEVICES = 4
CASES = [(k, n) for k, dets in DETECTORS.items() for n in dets] + [("generic", "generic"), ("wearable", "generic")]
FIELD = {("wearable", "generic"): "battery"}


def config() -> DetectorConfig:
    """Defaults, except the forest fits early and in line so it scores within a short test."""
    cfg = DetectorConfig()
    forest = cfg.meter.iforest.model_copy(update={"min_fit_samples": 60, "refit_every_samples": 60,
                                                  "background": False, "n_estimators": 20, "warmup_readings": 5})
    return cfg.model_copy(update={"meter": cfg.meter.model_copy(update={"iforest": forest})})


def series(kind: str, n: int, seed: int, step_s: float = 600.0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Plausible noisy readings for every field of ``kind`` on DEVICES devices, with anomalies mixed in."""
    rng = np.random.default_rng(seed)
    slot = np.tile(np.arange(DEVICES), n)
    ts = T0 + (np.repeat(np.arange(n), DEVICES) * step_s * 1000).astype(np.int64) + slot * 1000
    m = len(ts)
    bump = (rng.random(m) < 0.05).astype(float)
    cols = {
        "wearable": lambda: {"heart_rate": 72 + rng.normal(0, 3, m) - 35 * bump, "spo2": 97 + rng.normal(0, 1, m)
                             - 15 * bump, "fall": bump, "battery": 80 - np.arange(m) * 0.001},
        "smoke": lambda: {"smoke": np.abs(rng.normal(0.5, 0.3, m)) + 30 * bump, "temperature": 22 + rng.normal(0, .3, m)
                          + 40 * bump, "co": np.abs(rng.normal(2, 1, m)) + 300 * bump},
        "river_gauge": lambda: {"level": 2 + np.cumsum(rng.normal(0, 0.005, m)) + 3 * bump, "rain": np.zeros(m)},
        "meter": lambda: {"power_kw": 50 + 20 * np.sin(np.arange(m) / 20) + rng.normal(0, 2, m) - 50 * bump,
                          "energy_kwh": np.cumsum(np.full(m, 5.0)) - 1000 * bump * (np.arange(m) > m // 2)},
        "generic": lambda: {"value": rng.normal(10, 1, m) + 50 * bump},
    }[kind]()
    return slot, ts, cols


def run(pipe: KindPipeline, slot: np.ndarray, ts: np.ndarray, cols: dict, batch: int = 37):
    """Feed in batches (several readings per device per batch: exercises rounds); refit in line."""
    scores, events = np.zeros(len(ts)), []
    for a in range(0, len(ts), batch):
        sl = slice(a, a + batch)
        out, rows = pipe.run(slot[sl], ts[sl], {k: v[sl] for k, v in cols.items()}, rows=True)
        scores[sl] = rows.score
        events += out
        for d in pipe.detectors:
            if isinstance(d, IForest) and d.refit_due():
                d.refit()
    return scores, events


def pipeline(kind: str, name: str) -> KindPipeline:
    pkind = "generic" if kind == "generic" else kind
    params = {"warning_level": 4.0, "guarantee_level": 5.0} if kind == "river_gauge" else None
    return make(pkind, name, config(), DEVICES, params, FIELD.get((kind, name), "value"))


@pytest.fixture(params=CASES, ids=[f"{k}-{n}" for k, n in CASES])
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param


def test_deterministic_for_a_seed(case):
    kind, name = case
    a = run(pipeline(kind, name), *series(kind, 100, seed=3))
    b = run(pipeline(kind, name), *series(kind, 100, seed=3))
    assert np.array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_scores_in_unit_interval_with_nan_and_gaps(case):
    kind, name = case
    slot, ts, cols = series(kind, 120, seed=5)
    rng = np.random.default_rng(9)
    for v in cols.values():
        v[rng.random(len(v)) < 0.3] = np.nan
    ts = ts + np.where(np.arange(len(ts)) > len(ts) // 2, 86_400_000, 0)  # a one-day gap
    scores, _ = run(pipeline(kind, name), slot, ts, cols)
    assert np.all((scores >= 0) & (scores <= 1))
    pipe = pipeline(kind, name)
    run(pipe, slot, ts, cols)
    empty = {k: np.full(DEVICES, np.nan) for k in cols}
    out, rows = pipe.run(np.arange(DEVICES), ts[-DEVICES:] + 600_000, empty, rows=True)
    assert not [t for t in out if t.firing] and np.all(rows.score == 0)


def test_warm_up_never_alarms(case):
    kind, name = case
    pipe = pipeline(kind, name)
    det = pipe.detectors[0]
    n = max(getattr(det.cfg, "warmup_readings", 1), 1)
    slot, ts, cols = series(kind, n, seed=1, step_s=10)
    extreme = {"heart_rate": 30.0, "spo2": 70.0, "fall": 1.0, "smoke": 60.0, "temperature": 90.0, "co": 900.0,
               "level": 50.0, "power_kw": 0.0, "value": 1e6, "battery": 1.0}
    cols = {k: np.full(len(ts), extreme.get(k, v[0])) for k, v in cols.items()}
    scores, events = run(pipe, slot, ts, cols)
    assert np.all(scores == 0)
    assert not [e for e in events if e.firing]


def test_no_look_ahead(case):
    kind, name = case
    slot, ts, cols = series(kind, 160, seed=11)
    cut = 80 * DEVICES
    head = run(pipeline(kind, name), slot[:cut], ts[:cut], {k: v[:cut] for k, v in cols.items()})
    full = run(pipeline(kind, name), slot, ts, cols)
    assert np.array_equal(head[0], full[0][:cut])
    assert head[1] == [e for e in full[1] if e.at_ms <= ts[cut - 1]]


def test_state_survives_pickle(case):
    kind, name = case
    slot, ts, cols = series(kind, 120, seed=13)
    cut = 60 * DEVICES
    first = {k: v[:cut] for k, v in cols.items()}
    rest = {k: v[cut:] for k, v in cols.items()}
    a = pipeline(kind, name)
    run(a, slot[:cut], ts[:cut], first)
    b = pickle.loads(pickle.dumps(a))
    ra, rb = run(a, slot[cut:], ts[cut:], rest), run(b, slot[cut:], ts[cut:], rest)
    assert np.array_equal(ra[0], rb[0]) and ra[1] == rb[1]
