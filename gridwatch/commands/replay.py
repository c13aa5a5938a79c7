"""``gridwatch replay``: re-run stored or recorded readings through the detectors, faster than real time."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HELP = "replay stored/recorded readings through the detectors (and dispatch) and report per incident"
DESCRIPTION = """\
Re-run a time window of readings through the detectors on simulated time, much
faster than real time, and write a report per incident (terminal summary, JSON and
an HTML page with plots) against the ground truth where known.

Sources (one): --file readings.csv|.jsonl, --simulate SCENARIO (generate on the fly),
--influx URL (v1 or v2, see --influx-api), or by default the embedded store in --data-dir.

  gridwatch replay --truth gridwatch-data/simulations/elderly-cardiac-....json --dispatch
  gridwatch replay --simulate storm-day --out runs/before
  gridwatch replay --simulate storm-day --detectors-config tuned.toml --out runs/after
  gridwatch replay --compare runs/before runs/after
"""

FLAGS = ("city", "data_dir", "influx", "influx_api", "influx_bucket", "influx_org", "influx_token",
         "detectors_config", "log_level")


def configure(p: argparse.ArgumentParser) -> None:
    from gridwatch.options import add_settings_flags

    src = p.add_mutually_exclusive_group()
    src.add_argument("--file", type=Path, help="exported readings (.csv or .jsonl)")
    src.add_argument("--simulate", metavar="SCENARIO", help="replay a scenario generated on the fly (no storage)")
    p.add_argument("--truth", type=Path, help="ground truth JSON written by `gridwatch simulate`")
    p.add_argument("--start", help="window start: ISO 8601 with zone, or epoch ms (default: from --truth)")
    p.add_argument("--end", help="window end (default: from --truth)")
    p.add_argument("--dispatch", action="store_true", help="also run incidents, routing, escalation and simulated "
                   "workers on simulated time (SQLite scratch database)")
    p.add_argument("--tick", help="simulated time between detector ticks: readings are scored in chunks of this "
                   "much time, then time-driven rules run (default 60s; 10s with --dispatch)")
    p.add_argument("--out", type=Path, help="report directory (default DATA_DIR/replays/<name>)")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare two reports and exit")
    p.add_argument("--no-progress", action="store_true")
    add_settings_flags(p, FLAGS)


def _ms(text: str) -> int:
    import datetime as dt

    if text.isdigit():
        return int(text)
    t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone (e.g. +08:00 or Z)")
    return round(t.timestamp() * 1000)


def _window(args: argparse.Namespace, truth: dict[str, Any] | None) -> tuple[int, int]:
    t = truth or {}
    start = _ms(args.start) if args.start else t.get("data_start_ms", t.get("start_ms"))
    end = _ms(args.end) if args.end else t.get("end_ms")
    if start is None or end is None:
        raise ValueError("give the window (--start and --end) or a ground truth file (--truth)")
    if end <= start:
        raise ValueError("--end must be after --start")
    return int(start), int(end)


def execute(args: argparse.Namespace) -> int:
    if args.compare:
        from simulators.replay.compare import compare_lines, load_run

        print("\n".join(compare_lines(load_run(args.compare[0]), load_run(args.compare[1]))))
        return 0
    from gridwatch.options import settings_from_args
    from simulators.replay.sources import open_source
    from simulators.scenario import ScenarioError, parse_duration

    settings = settings_from_args(args, FLAGS)
    truth = json.loads(args.truth.read_text()) if args.truth else None
    counts: Counter[str] = Counter()
    try:
        src = open_source(args, settings, truth, counts)
        start_ms, end_ms = src.window or _window(args, src.truth)
        tick_ms = round(parse_duration(args.tick or ("10s" if args.dispatch else "60s")) * 1000)
    except (ScenarioError, ValueError, RuntimeError, OSError) as exc:
        print(f"gridwatch replay: {exc}", file=sys.stderr)
        return 2
    return _run(args, settings, src, start_ms, end_ms, tick_ms, counts)


def _run(args: argparse.Namespace, settings: Any, src: Any, start_ms: int, end_ms: int, tick_ms: int,
         counts: Counter[str]) -> int:
    import datetime as dt

    from detectors.config import load_detector_config
    from simulators.replay.report import summary_lines
    from simulators.replay.run import replay, write_report

    name = f"{(src.truth or {}).get('scenario') or 'window'}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    out = args.out or Path(settings.data_dir) / "replays" / name
    config = load_detector_config(settings.detectors_config) if settings.detectors_config else None
    rep, series = replay(
        src.city, src.slices(start_ms, end_ms), start_ms, end_ms, truth=src.truth, detector_config=config,
        dispatch_dir=out / "dispatch" if args.dispatch else None, workers=src.workers if args.dispatch else None,
        tick_ms=tick_ms, progress=not args.no_progress, source=src.name, counts=counts,
        linger_ms=900_000 if args.dispatch else 0)
    print("\n".join(summary_lines(rep)))
    j, h = write_report(out, rep, series)
    print(f"report: {h}  (data: {j})")
    return 0
