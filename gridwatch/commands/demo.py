"""``gridwatch demo``: the whole system on embedded defaults, a scenario running, the console open."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import threading
import time
from typing import Any

HELP = "everything at once on embedded defaults: devices publishing, red orders, simulated workers, the console"
DESCRIPTION = """\
Start gridwatch in-process on embedded defaults (embedded MQTT broker, embedded
store, SQLite, the built-in demo town), run a built-in scenario that keeps raising
incidents (devices publishing, detectors, red work orders, simulated grid workers
accepting, travelling and resolving them), print the console link and open it.

  gridwatch demo                         console on http://127.0.0.1:8080/#token=...
  gridwatch demo --no-browser --http 0.0.0.0:8080
  gridwatch demo --scenario elderly-cardiac
"""

FLAGS = ("city", "data_dir", "mqtt", "mqtt_embedded", "db", "http", "admin_token", "detectors_config",
         "alerts_config", "log_level")
log = logging.getLogger("gridwatch.demo")


def configure(p: argparse.ArgumentParser) -> None:
    from gridwatch.options import add_settings_flags

    p.add_argument("--scenario", default="demo", help="built-in scenario or TOML file (default: demo, continuous)")
    p.add_argument("--no-browser", action="store_true", help="print the console link, do not open a browser")
    add_settings_flags(p, FLAGS)


class DemoError(RuntimeError):
    """A piece the demo needs is missing or not wired; the message says which."""


class DemoStack:
    """The service on embedded defaults (it wires ingest, detectors, work orders and the API)."""

    def __init__(self, settings: Any) -> None:
        from gridwatch.service import Service

        self.settings = settings
        self.service = Service(settings)

    @property
    def mqtt_url(self) -> str:
        broker = self.service.broker
        return broker.url if broker is not None else str(self.settings.mqtt)

    def start(self) -> None:
        self.service.start()
        if getattr(self.service, "detectors", None) is None or getattr(self.service, "alerts", None) is None:
            raise DemoError("the service started without detectors or work orders (gridwatch/service.py "
                            "_start_detection): red orders cannot be raised")
        self._check_api()

    def _check_api(self, timeout: float = 20.0) -> None:
        """The simulated workers and the console need work orders on the HTTP API: fail clearly if absent."""
        import httpx

        host, port = self.settings.http_host_port
        url = f"http://{host}:{port}/api/v1/work-orders?limit=1"
        headers = {"Authorization": f"Bearer {self.settings.admin_token.get_secret_value()}"}
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            try:
                r = httpx.get(url, headers=headers, timeout=2)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
                if r.status_code == 503:
                    break
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise DemoError(
            f"the HTTP API on {host}:{port} does not serve work orders ({last}). The service must hand the "
            "work-order service to the API: in gridwatch/service.py, build the alerts runtime "
            "(alerts.runtime.build) and pass AppContext(orders=runtime.service, "
            "session_factory=runtime.deps.sessions) to api.app.create_app")

    def stop(self) -> None:
        self.service.stop()


def execute(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # workers' API calls: one line each otherwise
    from gridwatch.options import settings_from_args
    from simulators.scenario import ScenarioError, load_scenario

    if not getattr(args, "admin_token", None):
        import os

        args.admin_token = os.environ.get("GRIDWATCH_ADMIN_TOKEN") or secrets.token_urlsafe(24)
    settings = settings_from_args(args, FLAGS)
    if settings.mqtt is None and not getattr(args, "mqtt_embedded", None):
        settings = _embedded_broker_port_free(settings)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"gridwatch demo: {exc}")
        return 2
    stack = DemoStack(settings)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
        return _run(stack, scenario, settings, stop, args.no_browser)
    except (DemoError, ImportError, RuntimeError, OSError) as exc:  # e.g. a port already taken
        print(f"gridwatch demo: {exc}")
        return 1
    finally:
        stack.stop()


def _embedded_broker_port_free(settings: Any) -> Any:
    """The demo must start anywhere: if the default broker port is taken (often by a
    system Mosquitto), run the embedded broker on a free port instead and say so."""
    import socket

    host, _, port = settings.mqtt_embedded.rpartition(":")
    with socket.socket() as s:
        if s.connect_ex((host, int(port))) != 0:
            return settings
    with socket.socket() as s:
        s.bind((host, 0))
        free = s.getsockname()[1]
    print(f"gridwatch demo: {host}:{port} is taken (another MQTT broker?); the embedded broker uses {host}:{free}")
    return settings.model_copy(update={"mqtt_embedded": f"{host}:{free}"})


def _run(stack: DemoStack, scenario: Any, settings: Any, stop: threading.Event, no_browser: bool) -> int:
    from simulators.session import SimulationSession

    host, port = settings.http_host_port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    link = f"http://{shown}:{port}/#token={settings.admin_token.get_secret_value()}"
    session = SimulationSession.create(scenario, settings, api_url=f"http://{shown}:{port}", workers=True,
                                       city=stack.service.city, mqtt_url=stack.mqtt_url)
    print(f"gridwatch demo: {stack.service.city.describe()}; scenario {scenario.name!r} running "
          f"(ground truth {session.truth_path})")
    print(f"console: {link}")
    print("Ctrl-C to stop.")
    if not no_browser:
        import webbrowser

        threading.Timer(1.0, webbrowser.open, (link,)).start()
    session.run(stop)
    stop.wait()  # a finite scenario ended: keep serving the console until Ctrl-C
    return 0
