"""Helpers for detector tests: build one kind's pipeline, feed hand-built series, read transitions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from detectors.base import Detector
from detectors.config import DetectorConfig
from detectors.pipeline import KindPipeline, Transition
from detectors.registry import build, build_generic

T0 = 1_732_233_600_000  # 2024-11-22 08:00 Asia/Shanghai (a Friday)
TZ = ZoneInfo("Asia/Shanghai")


def make(kind: str, name: str, config: DetectorConfig | None = None, devices: int = 1,
         params: dict[str, float] | None = None, field: str = "value") -> KindPipeline:
    config = config or DetectorConfig()
    det: Detector = build_generic(kind, field, config) if name == "generic" else build(kind, name, config)
    for k, v in (params or {}).items():
        det.params[k] = np.full(devices, v, np.float32)
    pipe = KindPipeline(kind, [det], TZ)
    pipe.grow(devices)
    return pipe


def feed(pipe: KindPipeline, ts: np.ndarray, cols: dict[str, np.ndarray],
         slot: np.ndarray | None = None) -> tuple[np.ndarray, list[Transition]]:
    """Feed one series (device 0 unless ``slot``) and return per-row scores and transitions."""
    ts = np.asarray(ts, np.int64)
    slot = np.zeros(len(ts), np.int64) if slot is None else slot
    out, rows = pipe.run(slot, ts, {k: np.asarray(v, np.float64) for k, v in cols.items()}, rows=True)
    return rows.score, out


def every(seconds: float, n: int, start: int = T0) -> np.ndarray:
    return start + (np.arange(n) * seconds * 1000).astype(np.int64)


def fired(transitions: list[Transition], rule: str | None = None, min_sev: int = 1) -> list[Transition]:
    return [t for t in transitions if t.firing and t.severity >= min_sev and (rule is None or t.rule == rule)]


def first_fire_s(transitions: list[Transition], rule: str, onset_ms: int, min_sev: int = 1) -> float | None:
    """Seconds from onset to the first firing of ``rule`` at ``min_sev`` or above (None: never)."""
    hits = [t.at_ms for t in fired(transitions, rule, min_sev) if t.at_ms >= onset_ms]
    return (min(hits) - onset_ms) / 1000 if hits else None
