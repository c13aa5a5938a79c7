"""Score one device's series offline (``gridwatch detect``): the same detectors, one row at a time.

Rows are fed strictly in file order, one at a time, so a row's output depends only on
the rows before it (no look-ahead). Before a row that follows a gap, time-driven rules
are ticked at the moment just before it, so "the band went silent" shows up exactly
as it would have live.

>>> ts = np.arange(90, dtype=np.int64) * 10_000 + 1_732_233_600_000
>>> hr = np.r_[75.0 + np.arange(70) % 3, np.full(20, 36.0)]
>>> score, sev = score_series("wearable", "heart_rate", ts, hr)
>>> [str(Severity(s)) for s in sev[-3:]], bool(score[-1] > 0.9), int(sev[:70].max())
(['red', 'red', 'red'], True, 0)
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from core.kinds import FIELDS
from core.severity import Severity
from detectors.base import Detector
from detectors.config import DetectorConfig, DetectorConfigError
from detectors.iforest import IForest
from detectors.pipeline import KindPipeline, night_checker
from detectors.registry import build, build_generic, build_kind, detector_names

__all__ = ["Severity", "choose_detectors", "score_series"]

TICK_GAP_MS = 60_000


def choose_detectors(kind: str, field: str, config: DetectorConfig, name: str | None = None) -> list[Detector]:
    """The detectors that read ``field`` for ``kind`` (or just ``name``); errors say what is allowed."""
    if kind == "generic":
        if name not in (None, "generic"):
            raise DetectorConfigError(f"--kind generic has one detector, 'generic' (not {name!r})")
        return [build_generic("generic", field, config)]
    if kind not in FIELDS:
        raise DetectorConfigError(f"unknown kind {kind!r} (expected {', '.join([*FIELDS, 'generic'])})")
    if field not in FIELDS[kind]:
        raise DetectorConfigError(f"{kind} has no field {field!r} (fields: {', '.join(FIELDS[kind])})")
    if name == "generic":
        return [build_generic(kind, field, config)]
    if name is not None:
        det = build(kind, name, config)
        if field not in det.fields:
            raise DetectorConfigError(f"detector {name!r} does not read {field!r} (it reads {', '.join(det.fields)})")
        return [det]
    dets = [d for d in build_kind(kind, config) if field in d.fields]
    if not dets:
        choices = ", ".join(detector_names(kind))
        raise DetectorConfigError(f"no {kind} detector reads {field!r}; try --detector generic ({choices})")
    return dets


def score_series(kind: str, field: str, ts: np.ndarray, values: np.ndarray, config: DetectorConfig | None = None,
                 detector: str | None = None, params: dict[str, float] | None = None,
                 others: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: anomaly score in [0, 1] and the highest firing severity (0 = none).

    ``others`` are further fields of the same device, row-aligned (e.g. ``temperature``
    next to ``smoke``, so the fire rule can see heat).
    """
    config = config or DetectorConfig()
    dets = choose_detectors(kind, field, config, detector)
    for d in dets:
        for k, v in (params or {}).items():
            d.params[k] = np.array([v], np.float32)
    pipe = KindPipeline(kind, dets, ZoneInfo(config.timezone))
    pipe.grow(1)
    night = night_checker(ZoneInfo(config.timezone), config.night_start_hour, config.night_end_hour)
    n = len(ts)
    score, sev = np.zeros(n), np.zeros(n, np.int8)
    one, prev = np.zeros(1, np.int64), None
    for i in range(n):
        t = np.asarray(ts[i : i + 1], np.int64)
        if prev is not None and t[0] - prev > TICK_GAP_MS:
            pipe.tick(int(t[0]) - 1, night(int(t[0]) - 1))
        cols = {field: values[i : i + 1], **{k: v[i : i + 1] for k, v in (others or {}).items()}}
        _, rows = pipe.run(one, t, cols, rows=True)
        score[i] = rows.score[0]
        sev[i] = max(int(d.alerts.firing_severity(one)[0]) for d in dets)
        prev = int(t[0]) if prev is None else max(prev, int(t[0]))
        _refit(dets)
    return score, sev


def _refit(dets: list[Detector]) -> None:
    """Offline there is no hot path to protect: refit models in line, deterministically."""
    for d in dets:
        if isinstance(d, IForest) and d.refit_due():
            d.refit()
