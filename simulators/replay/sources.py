"""Pick the replay source the command line asks for, with its city and ground truth.

One of: an exported file, a scenario generated on the fly, InfluxDB (v1 or v2), or
the embedded store. The city is ``--city``, else the one the ground truth names,
else the built-in town.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.batch import ReadingBatch
from core.city import City, load_city
from core.settings import Settings
from simulators.citygen import ensure_builtin_city
from simulators.replay import stores
from simulators.replay.engine import by_slice
from simulators.replay.files import read_file
from simulators.scenario import WorkersSpec

Slices = Iterator[list[ReadingBatch]]


@dataclass
class Source:
    name: str
    city: City
    slices: Callable[[int, int], Slices]
    truth: dict[str, Any] | None = None
    window: tuple[int, int] | None = None
    workers: WorkersSpec | None = None


def _city(settings: Settings, truth: dict[str, Any] | None) -> City:
    if settings.city is not None:
        return load_city(settings.city)
    named = (truth or {}).get("city")
    if named and Path(named).is_dir():
        return load_city(named)
    return load_city(ensure_builtin_city(Path(settings.data_dir)))


def _simulated(scenario_name: str, settings: Settings) -> Source:
    import time

    from simulators.scenario import load_scenario
    from simulators.session import scenario_city, start_time
    from simulators.world import World

    scenario = load_scenario(scenario_name)
    if scenario.duration == 0:
        raise ValueError(f"scenario {scenario.name!r} runs until stopped; replay needs a finite duration")
    city = load_city(scenario_city(scenario, settings.data_dir, settings.city))
    world = World(city, scenario, start_time(scenario, None, time.time()))
    warm = world.warmup_s()

    def slices(a: int, b: int) -> Slices:
        for x, y in stores.slices(a, b, 600_000):
            yield world.window(x / 1000, y / 1000)

    world.materialise(world.end_s)  # a continuous scenario's incidents, for the ground truth
    start, end = round((world.start_s - warm) * 1000), round(world.end_s * 1000)
    return Source(f"scenario {scenario.name}", city, slices, world.ground_truth(), (start, end), scenario.workers)


def open_source(args: argparse.Namespace, settings: Settings, truth: dict[str, Any] | None,
                counts: Counter[str]) -> Source:
    if args.simulate:
        return _simulated(args.simulate, settings)
    city = _city(settings, truth)
    workers = WorkersSpec(no_answer_probability=0.0)
    if args.file:
        path: Path = args.file
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        return Source(str(path), city, lambda a, b: by_slice(read_file(path, city, a, b, counts)), truth,
                      workers=workers)
    if settings.influx:
        token = settings.influx_token.get_secret_value() if settings.influx_token else None
        if settings.influx_api == "v1":
            def v1(a: int, b: int) -> Slices:
                return by_slice(stores.influx_v1(settings.influx, settings.influx_bucket, city, a, b, counts, token))
            return Source(f"InfluxDB v1 {settings.influx}", city, v1, truth, workers=workers)

        def v2(a: int, b: int) -> Slices:
            return by_slice(stores.influx_v2(settings.influx, settings.influx_bucket, settings.influx_org, token,
                                             city, a, b, counts))
        return Source(f"InfluxDB v2 {settings.influx}", city, v2, truth, workers=workers)
    return Source(f"embedded store {settings.data_dir}", city,
                  lambda a, b: by_slice(stores.embedded(Path(settings.data_dir), city, a, b)), truth, workers=workers)
