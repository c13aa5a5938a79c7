"""One simulation run, wired: city, world, MQTT publisher, simulated workers, ground truth file.

``SimulationSession.create(scenario, settings, ...)`` resolves the scenario's city (the
built-in town, a directory, or generated parameters), places the run in time, and
connects; ``run(stop)`` publishes until the scenario ends; the ground truth JSON is
rewritten as the run goes (a continuous scenario keeps adding incidents).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from core.city import City, load_city
from core.settings import Settings
from simulators.api_client import ApiClient
from simulators.citygen import ensure_builtin_city, generate_city
from simulators.publisher import Publisher, subscribe_orders
from simulators.runner import Runner, RunStats
from simulators.scenario import Scenario, ScenarioError
from simulators.workers import WorkerSim
from simulators.world import World

TRUTH_EVERY_S = 5.0  # real seconds between ground-truth rewrites


def scenario_city(scenario: Scenario, data_dir: Path, override: Path | None = None) -> Path:
    """The city directory a scenario runs on (``override`` = ``--city`` wins)."""
    if override is not None:
        return Path(override)
    spec = scenario.city
    if spec.dir is not None:
        return spec.dir
    if spec.generate is not None:
        g = spec.generate
        out = Path(data_dir) / "cities" / f"{scenario.name}-{g.seed}"
        if not (out / "departments.csv").is_file():
            generate_city(out, **g.model_dump())
        return out
    return ensure_builtin_city(Path(data_dir))


def start_time(scenario: Scenario, start: str | None, now_s: float) -> float:
    """Explicit start, else the scenario's, else placed so an accelerated run ends at ``now_s``."""
    if start:
        parsed = dt.datetime.fromisoformat(start)
        if parsed.tzinfo is None:
            raise ScenarioError(f"--start {start!r} needs a time zone, e.g. +08:00")
        return parsed.timestamp()
    if scenario.start is not None:
        return scenario.start.timestamp()
    return now_s - scenario.duration * (1.0 - 1.0 / scenario.speed)


@dataclass
class SimulationSession:
    world: World
    runner: Runner
    truth_path: Path
    publisher: Publisher | None
    workers: WorkerSim | None = None
    clients: list[mqtt.Client] = field(default_factory=list)

    @classmethod
    def create(cls, scenario: Scenario, settings: Settings, *, start: str | None = None, api_url: str | None = None,
               workers: bool = True, ground_truth: str | Path | None = None, city: City | None = None,
               mqtt_url: str | None = None) -> SimulationSession:
        city = city or load_city(scenario_city(scenario, settings.data_dir, settings.city))
        world = World(city, scenario, start_time(scenario, start, time.time()))
        url = mqtt_url or settings.mqtt
        auth = {"username": settings.mqtt_username,
                "password": settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
                "ca_file": str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None}
        publisher = Publisher(url, scenario.publish.form, **auth) if url else None
        sim_workers, clients = None, []
        if workers and scenario.workers.enabled:
            if settings.admin_token is None:
                raise ScenarioError("simulated workers need the admin token (--admin-token or "
                                    "GRIDWATCH_ADMIN_TOKEN), or run with --no-workers")
            api = ApiClient(api_url or f"http://{settings.http}", settings.admin_token.get_secret_value())
            sim_workers = WorkerSim(city, scenario.workers, api, scenario.seed)
            if url:
                clients.append(subscribe_orders(url, sim_workers.on_message, **auth))
        name = f"{scenario.name}-{dt.datetime.fromtimestamp(world.start_s, dt.UTC):%Y%m%dT%H%M%SZ}.json"
        truth = Path(ground_truth) if ground_truth else Path(settings.data_dir) / "simulations" / name
        runner = Runner(world, publisher, sim_workers, scenario.speed, scenario.publish.step)
        return cls(world, runner, truth, publisher, sim_workers, clients)

    def write_truth(self) -> None:
        self.truth_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.truth_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.world.ground_truth(), indent=1))
        tmp.replace(self.truth_path)

    def wait_connected(self, timeout: float = 15.0) -> None:
        if self.publisher is not None and not self.publisher.connected.wait(timeout):
            raise ConnectionError("could not connect to the MQTT broker")
        for c in self.clients:
            if not c.subscribed.wait(timeout):  # type: ignore[attr-defined]
                raise ConnectionError("could not subscribe to workers/+/orders")

    def run(self, stop: threading.Event | None = None) -> RunStats:
        try:
            self.wait_connected()
        except ConnectionError:
            self.close()
            raise
        last = [0.0]

        def every_step(_: Runner) -> None:
            if time.monotonic() - last[0] >= TRUTH_EVERY_S:
                last[0] = time.monotonic()
                self.write_truth()

        try:
            return self.runner.run(stop, on_step=every_step)
        finally:
            self.write_truth()
            self.close()

    def close(self) -> None:
        for c in self.clients:
            c.loop_stop()
            c.disconnect()
        if self.publisher is not None:
            self.publisher.close()
