"""One replay, end to end: source → detectors (→ dispatch) → report files.

>>> # rep, series = replay(city, slices, start_ms, end_ms, truth=truth); write_report(out, rep, series)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.batch import ReadingBatch
from core.city import City
from core.clock import ManualClock
from simulators.replay.engine import Replayer
from simulators.replay.html import render_html
from simulators.replay.report import build_report
from simulators.scenario import WorkersSpec


def replay(city: City, slices: Iterable[list[ReadingBatch]], start_ms: int, end_ms: int, *,
           truth: dict[str, Any] | None = None, detector_config: Any = None, dispatch_dir: Path | None = None,
           workers: WorkersSpec | None = None, tick_ms: int = 10_000, progress: bool = True, source: str = "",
           counts: Counter[str] | None = None, linger_ms: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the window through a fresh ``DetectorEngine`` (and the dispatch loop); return (report, series)."""
    from detectors.engine import DetectorEngine

    clock = ManualClock(start_ms / 1000.0)
    engine = DetectorEngine(city, detector_config, clock)
    loop = None
    if dispatch_dir is not None:
        from simulators.replay.dispatch import DispatchLoop

        loop = DispatchLoop(city, clock, dispatch_dir, workers, (truth or {}).get("seed", 0))
    watch = {d for t in (truth or {}).get("incidents", []) for d in t["devices"][:1]}
    try:
        res = Replayer(city, engine, clock, loop, tick_ms, watch).run(slices, start_ms, end_ms, progress, linger_ms)
        orders = loop.orders() if loop is not None else []
    finally:
        engine.close()
        if loop is not None:
            loop.close()
    sim_s = (end_ms - start_ms) / 1000.0
    meta = {"source": source, "start_ms": start_ms, "end_ms": end_ms, "readings": res.readings,
            "seconds": round(res.seconds, 3), "readings_per_s": res.readings / max(res.seconds, 1e-9),
            "speedup": sim_s / max(res.seconds, 1e-9), "skipped": dict(counts or {}),
            "dispatch": dispatch_dir is not None, "scenario": (truth or {}).get("scenario")}
    return build_report(truth, res.alerts, orders, meta), res.series


def write_report(out_dir: Path, rep: dict[str, Any], series: dict[str, Any]) -> tuple[Path, Path]:
    """``report.json`` (for ``--compare``) and ``report.html`` (tables and inline SVG plots)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    j, h = out_dir / "report.json", out_dir / "report.html"
    j.write_text(json.dumps(rep, indent=1, default=str))
    h.write_text(render_html(rep, series), encoding="utf-8")
    return j, h
