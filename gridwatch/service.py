"""The service: the composition root that wires city, ingest, storage, consumers and HTTP.

``Service(settings).run_forever()`` is ``gridwatch run``. Construction loads the city
and creates the shared parts (metrics registry, event bus, the list of batch
consumers), so other parts can be built around ``service.city`` and appended to
``service.consumers`` before ``start()``. ``start()`` brings up, in order: the embedded
broker (when ``--mqtt`` is unset), storage (InfluxDB sink with its disk spool, or the
embedded store), the dead-letter store, the work-order runtime (alerts: migrations,
intake, escalation scheduler, notifiers), the detectors (a batch consumer whose alert
events go to the alerts intake), the pipeline, the MQTT source and the HTTP API.
``stop()`` takes them down so that everything received is stored and acknowledged:
stop reading MQTT, finish the inbox, commit, send the acknowledgements, disconnect.

Data flow (docs/architecture.md)::

    MQTT ─► MqttSource.inbox ─► Pipeline ─► consumers: latest readings, detectors ─► alerts intake
                                        └─► sink: spool ─► InfluxDB | embedded store    └─► work orders
                                        └─► dead letters                                  ─► MQTT, EventBus
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alerts.runtime import AlertsRuntime
from alerts.runtime import build as build_alerts
from core.city import City, load_city
from core.clock import Clock, SystemClock
from core.events import EventBus
from core.metrics import new_registry
from core.settings import Settings, SettingsError
from detectors.config import load_detector_config
from detectors.consumer import DetectorConsumer
from detectors.engine import DetectorEngine
from ingest.dead_letters import DeadLetterStore
from ingest.decode import Decoder
from ingest.embedded_broker import EmbeddedBroker
from ingest.embedded_store import EmbeddedStore
from ingest.influx import V1Writer, V2Writer
from ingest.influx_sink import InfluxSink
from ingest.latest import LatestReadings
from ingest.line_protocol import LineEncoder
from ingest.metrics import IngestMetrics
from ingest.mqtt_source import BrokerAddress, MqttSource
from ingest.pipeline import BatchConsumer, Pipeline
from ingest.sink import Sink
from ingest.spool import Spool
from ingest.store_sink import StoreSink

log = logging.getLogger("gridwatch.service")

WRITE_LANES = 2  # concurrent InfluxDB writes: InfluxDB 1.x takes ~1.8x the points with two (measured)
HealthPart = Callable[[], dict[str, Any]]  # a part's report; "ok": False makes the service "degraded"


def load_service_city(settings: Settings) -> City:
    """``--city``, or the built-in demo town generated into the data directory."""
    if settings.city is not None:
        return load_city(settings.city)
    try:
        from simulators.citygen import ensure_builtin_city
    except ImportError as exc:  # pragma: no cover - the simulators package ships with gridwatch
        raise RuntimeError(f"no --city given and the built-in demo town is unavailable ({exc})") from None
    return load_city(ensure_builtin_city(settings.data_dir))


def _lock_data_dir(path: Path) -> int:
    """One gridwatch per data directory: its spool, store and SQLite files have one writer each.

    An advisory ``flock`` on ``gridwatch.lock``, released by the kernel when the process
    ends, even by SIGKILL; the file holds the owner's pid for the message."""
    fd = os.open(path / "gridwatch.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SettingsError(f"data_dir {path} is in use by another gridwatch (pid {holder}); "
                            "give each process its own --data-dir") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class Service:
    def __init__(self, settings: Settings, clock: Clock | None = None, city: City | None = None) -> None:
        """``city`` overrides ``settings.city`` (tests and replay build cities in memory)."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.city = city if city is not None else load_service_city(settings)
        self.registry = new_registry()
        self.bus = EventBus()
        self.metrics = IngestMetrics(self.registry)
        self.latest = LatestReadings(self.city)
        # every accepted batch goes to each of these, on the pipeline thread (detectors go here)
        self.consumers: list[BatchConsumer] = [self.latest]
        self.health_parts: dict[str, HealthPart] = {}
        self.broker: EmbeddedBroker | None = None
        self.source: MqttSource | None = None
        self.sink: Sink | None = None
        self.pipeline: Pipeline | None = None
        self.dead_letters: DeadLetterStore | None = None
        self.alerts: AlertsRuntime | None = None
        self.detectors: DetectorConsumer | None = None
        self._http: _HttpServer | None = None
        self._stop_requested = threading.Event()
        self._started = False
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        s = self.settings
        self._lock_fd = _lock_data_dir(self.data_dir)
        log.info("city %s: %s", self.city.source, self.city.describe())
        mqtt_url = s.mqtt
        protocol = 5
        if mqtt_url is None:
            self.broker = EmbeddedBroker(s.mqtt_embedded, self.data_dir)
            self.broker.start()
            mqtt_url, protocol = self.broker.url, 4  # amqtt speaks MQTT 3.1.1
        self.sink = self._make_sink()
        self.dead_letters = DeadLetterStore(self.data_dir / "dead_letters.sqlite")
        self._start_detection(mqtt_url)
        address = BrokerAddress.parse(mqtt_url)
        if s.mqtt_username:
            password = s.mqtt_password.get_secret_value() if s.mqtt_password else None
            address = BrokerAddress(address.host, address.port, address.tls, s.mqtt_username, password)
        self.source = MqttSource(address, s.mqtt_client_id, self.metrics, s.mqtt_max_inflight,
                                 str(s.mqtt_ca_file) if s.mqtt_ca_file else None, protocol, self.clock)
        self.pipeline = Pipeline(self.source, Decoder(self.city, self.clock), self.sink, self.dead_letters,
                                 self.metrics, self.consumers)
        self.health_parts.setdefault("mqtt", self._mqtt_health)
        self.health_parts.setdefault("storage", self._storage_health)
        _tune_gc()
        self.pipeline.start()
        self.sink.start()
        self.source.start()
        self._start_http()
        self._started = True

    def _make_sink(self) -> Sink:
        s = self.settings
        flush_messages = max(1, s.mqtt_max_inflight // 2)
        if s.influx is None:
            store = EmbeddedStore(self.data_dir / "store", self.city)
            log.info("storage: embedded store in %s (no --influx given)", store.dir)
            return StoreSink(store, self.metrics, s.batch_size, s.flush_interval, flush_messages)
        token = s.influx_token.get_secret_value() if s.influx_token else None
        if s.influx_api == "v1":
            writers = [V1Writer(s.influx, s.influx_bucket, token, s.influx_gzip) for _ in range(WRITE_LANES)]
        else:
            writers = [V2Writer(s.influx, s.influx_bucket, s.influx_org, token, s.influx_gzip)
                       for _ in range(WRITE_LANES)]
        spool = Spool(self.data_dir / "spool", s.spool_max_bytes)
        log.info("storage: InfluxDB %s, spool %s (max %d MiB)", writers[0].target, spool.dir, s.spool_max_bytes >> 20)
        return InfluxSink(writers, spool, LineEncoder.for_city(self.city), self.metrics,
                          s.batch_size, s.flush_interval, flush_messages)

    def _start_detection(self, mqtt_url: str) -> None:
        """Work orders first (so no alert waits for them), then the detectors feeding them."""
        s = self.settings
        self.alerts = build_alerts(s, self.city, self.clock, self.bus, self.registry, mqtt_url=mqtt_url)
        self.alerts.start()
        config = load_detector_config(s.detectors_config) if s.detectors_config else None
        engine = DetectorEngine(self.city, config, self.clock)
        self.detectors = DetectorConsumer(engine, self.alerts.intake.submit, self.clock, self.registry)
        self.consumers.append(self.detectors)
        self.detectors.start()
        log.info("detectors: %s; work orders in %s", s.detectors_config or "built-in defaults",
                 _redact_url(s.db_url))

    def _start_http(self) -> None:
        try:
            from api.app import create_app
            from api.context import AppContext
        except ImportError as exc:
            log.warning("HTTP API unavailable (%s); running without it", exc)
            return
        ctx = AppContext(settings=self.settings, city=self.city, registry=self.registry, bus=self.bus,
                         health=self.health, latest_readings=self.latest.get, clock=self.clock,
                         orders=self.alerts.service if self.alerts else None,
                         session_factory=self.alerts.deps.sessions if self.alerts else None)
        host, port = self.settings.http_host_port
        self._http = _HttpServer(create_app(ctx), host, port)
        self._http.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store and acknowledge everything received, then disconnect; safe to call twice."""
        if not self._started:
            return
        self._started = False
        assert self.source and self.pipeline and self.sink
        self.source.pause()
        self.pipeline.stop(timeout)
        self.sink.stop(timeout)
        self.source.flush_acks()
        self.source.stop()
        if self.detectors:
            self.detectors.stop()
        if self.alerts:
            self.alerts.stop()  # finishes queued alerts and notifications before the broker goes
        if self.dead_letters:
            self.dead_letters.close()
        if self.broker:
            self.broker.stop()
        if self._http:
            self._http.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the data directory
            self._lock_fd = None
        log.info("stopped")

    def request_stop(self) -> None:
        """Ask ``run_forever`` to return (signal handlers call this)."""
        self._stop_requested.set()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop_requested.wait(1.0):
                pass
        finally:
            self.stop()

    # ------------------------------------------------------------------ health

    def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "degraded", part: {...}}``; ``/health`` answers 503 unless ok."""
        parts = {name: part() for name, part in self.health_parts.items()}
        ok = all(p.get("ok", True) for p in parts.values())
        return {"status": "ok" if ok else "degraded", **parts}

    def _mqtt_health(self) -> dict[str, Any]:
        src = self.source
        assert src is not None
        return {"ok": src.connected, "connected": src.connected, "subscribed": src.subscribed.is_set(),
                "broker": f"{src.address.host}:{src.address.port}",
                "embedded": self.broker is not None, "last_error": src.last_error,
                "unacked_messages": self.pipeline.unacked if self.pipeline else 0}

    def _storage_health(self) -> dict[str, Any]:
        assert self.sink is not None
        report = self.sink.health()
        return {"ok": report.get("reachable") is not False, **report}


def _redact_url(url: str) -> str:
    """A database URL without its password, fit for a log line."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _tune_gc() -> None:
    """The hot path makes millions of short-lived JSON objects; collect young ones less often.

    Measured: decoding with the default thresholds (700) costs 1.5–2x the CPU of decoding
    with collection off. The threshold sits above what one pipeline round allocates
    (4 MiB of gateway JSON: ~50,000 readings, ~150,000 lists and dicts, all alive until
    the round is decoded), so a round is not scanned mid-decode: at 50,000 decoding such
    rounds cost ~10 % more than with collection off, at 200,000 about the same. The JSON
    objects hold no cycles, so nothing waits for the collector. Long-lived state (the
    city) is frozen out of the collector's scans."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 20, 50)


class _HttpServer:
    """uvicorn in a thread (it installs no signal handlers off the main thread)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self.host, self.port = host, port

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP API on http://%s:%d (/health, /metrics, /docs)", self.host, self.port)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
