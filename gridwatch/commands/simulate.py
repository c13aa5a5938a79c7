"""``gridwatch simulate``: a scenario's devices publishing over MQTT, and its grid workers."""

from __future__ import annotations

import argparse
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.scenario import Scenario

HELP = "publish a scenario's simulated telemetry over MQTT; simulated grid workers take the orders"
DESCRIPTION = """\
Simulated devices publish a scenario's readings over MQTT (INTERFACES §1) on a
simulated clock, in real time or faster (--speed); simulated grid workers hear
their orders on workers/{id}/orders and accept, travel and report through the API.
The ground truth (incidents, faults, onsets) is written as JSON for `gridwatch replay`.

  gridwatch simulate --scenario elderly-cardiac --mqtt mqtt://127.0.0.1:1883 \\
      --api http://127.0.0.1:8080 --admin-token "$GRIDWATCH_ADMIN_TOKEN"
  gridwatch simulate --scenario storm-day --speed 600 --no-workers --mqtt mqtt://127.0.0.1:1883

Built-in scenarios: elderly-cardiac, demo, storm-day (or a TOML file: see
simulators/scenarios/annotated.toml). An accelerated run is placed in the past so
that it ends now: no reading is ever from the future.
"""

log = logging.getLogger("gridwatch.simulate")


def configure(p: argparse.ArgumentParser) -> None:
    from gridwatch.options import add_settings_flags

    p.add_argument("--scenario", required=True, help="built-in name or a TOML file")
    p.add_argument("--speed", type=float, help="simulated seconds per real second (overrides the scenario)")
    p.add_argument("--duration", help="override the scenario's duration (e.g. 10m)")
    p.add_argument("--start", help="simulated start, ISO 8601 with zone (default: so the run ends now)")
    p.add_argument("--form", choices=("gateway", "device"), help="MQTT topic form (overrides the scenario)")
    p.add_argument("--api", help="gridwatch API base URL for the workers (default http://<--http>)")
    p.add_argument("--no-workers", action="store_true", help="devices only: no simulated grid workers")
    p.add_argument("--export", metavar="FILE", help="write the readings to FILE (.csv or .jsonl) instead of "
                   "publishing them, as fast as possible (for `gridwatch replay --file`)")
    p.add_argument("--ground-truth", metavar="FILE", help="where to write the ground truth JSON "
                   "(default DATA_DIR/simulations/<scenario>-<start>.json)")
    add_settings_flags(p, ("city", "data_dir", "mqtt", "mqtt_username", "mqtt_password", "mqtt_ca_file",
                           "http", "admin_token", "log_level"))


def _scenario(args: argparse.Namespace) -> Scenario:
    from simulators.scenario import load_scenario, parse_duration

    scenario = load_scenario(args.scenario)
    update = {}
    if args.speed:
        update["speed"] = args.speed
    if args.duration:
        update["duration"] = parse_duration(args.duration)
    if args.form:
        update["publish"] = scenario.publish.model_copy(update={"form": args.form})
    return scenario.model_copy(update=update) if update else scenario


def execute(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # workers' API calls: one line each otherwise
    from gridwatch.options import settings_from_args
    from simulators.scenario import ScenarioError
    from simulators.session import SimulationSession

    settings = settings_from_args(args, ("city", "data_dir", "mqtt", "mqtt_username", "mqtt_password",
                                         "mqtt_ca_file", "http", "admin_token", "log_level"))
    if args.export:
        return _export(args, settings)
    if not settings.mqtt:
        print("gridwatch simulate: no broker: give --mqtt mqtt://HOST:PORT (or GRIDWATCH_MQTT); "
              "`gridwatch demo` runs everything in one process")
        return 2
    try:
        scenario = _scenario(args)
        session = SimulationSession.create(scenario, settings, start=args.start, api_url=args.api,
                                           workers=not args.no_workers, ground_truth=args.ground_truth)
    except (ScenarioError, ValueError) as exc:
        print(f"gridwatch simulate: {exc}")
        return 2
    t0 = time.monotonic()
    try:
        stats = session.run()
    except ConnectionError as exc:
        print(f"gridwatch simulate: {exc} at {settings.mqtt}")
        return 1
    print(f"published {stats.readings} readings in {stats.messages} messages over {stats.sim_s:.0f} simulated s "
          f"({time.monotonic() - t0:.1f} s real); ground truth: {session.truth_path}")
    if session.workers is not None:
        print("workers: " + (", ".join(f"{k}={v}" for k, v in sorted(session.workers.counts.items())) or "no errors")
              + f"; {len(session.workers.timeline)} steps taken")
    return 0


def _export(args: argparse.Namespace, settings: object) -> int:
    from pathlib import Path

    from core.city import load_city
    from simulators.export import export
    from simulators.scenario import ScenarioError
    from simulators.session import SimulationSession, scenario_city, start_time
    from simulators.world import World

    try:
        scenario = _scenario(args)
        city = load_city(scenario_city(scenario, settings.data_dir, settings.city))  # type: ignore[attr-defined]
        world = World(city, scenario, start_time(scenario, args.start, time.time()))
        n = export(world, Path(args.export), world.warmup_s())
    except (ScenarioError, ValueError) as exc:
        print(f"gridwatch simulate: {exc}")
        return 2
    session = SimulationSession(world, None, Path(args.ground_truth or Path(args.export).with_suffix(".truth.json")),
                                None)  # type: ignore[arg-type]
    session.write_truth()
    print(f"wrote {n} readings to {args.export}; ground truth: {session.truth_path}")
    return 0
