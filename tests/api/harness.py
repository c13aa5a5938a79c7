"""A gridwatch API around a real work-order service, for API, browser and benchmark runs.

``Harness`` builds the alerts runtime (migrations, workers seeded from the city; its
threads are not started, so nothing escalates behind a test's back), ``create_app``
around it, and issues one token per role. ``red_order`` raises an order the way the
pipeline does: an ``AlertEvent`` into ``AlertIntake`` (incident -> order -> routed ->
departments called).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from alerts.models import Alert
from alerts.runtime import build
from api.app import create_app
from api.context import AppContext
from api.tokenstore import TokenStore
from core.alert import AlertEvent
from core.city import City
from core.clock import SystemClock
from core.events import EventBus
from core.metrics import new_registry
from core.settings import Settings
from core.severity import Severity

ADMIN_TOKEN = "test-admin-token-0123456789"
_seq = itertools.count(1)


@dataclass
class Harness:
    url: str
    city: City
    bus: EventBus = field(default_factory=EventBus)
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        settings = Settings.load(overrides={"admin_token": ADMIN_TOKEN, "db": self.url}, env={})
        registry = new_registry()
        self.runtime = build(settings, self.city, SystemClock(), self.bus, registry)  # threads not started
        self.engine, self.service = self.runtime.engine, self.runtime.service
        self.sessions = self.runtime.deps.sessions
        self.latest: dict[str, dict[str, Any]] = {}
        self.ctx = AppContext(settings, self.city, registry, self.bus, orders=self.service,
                              session_factory=self.sessions, latest_readings=self.latest.get, sse_heartbeat_s=1.0)
        self.app: FastAPI = create_app(self.ctx)

    def issue_tokens(self) -> dict[str, str]:
        store = TokenStore(self.sessions)
        scopes = {"worker": "w-001", "worker2": "w-002", "dispatcher": "t-01", "dispatcher2": "t-02",
                  "department": "medical-120", "department2": "fire-119"}
        self.tokens = {"admin": ADMIN_TOKEN, "issued_admin": store.issue("admin", "Ada Admin")[1]}
        for name, scope in scopes.items():
            self.tokens[name] = store.issue(name.rstrip("2"), f"{name} person", scope)[1]
        return self.tokens

    def red_order(self, device_id: str = "wb-0001", severity: Severity = Severity.RED,
                  reason: str = "heart rate 36 bpm, 52% below usual 75 for 40 s") -> dict[str, Any]:
        """An order raised by the pipeline's entry (``AlertIntake``); returns it as the API shows it."""
        dev = self.city.devices
        slot = dev.slot(device_id)
        kind, now_ms = dev.kind_name(slot), SystemClock().now_ms()
        ev = AlertEvent(device_id, kind, self.city.device_grid_id(slot), f"{kind}.test{next(_seq)}", "firing",
                        severity, reason, 36.0, now_ms - 40_000, now_ms, now_ms)
        self.runtime.intake.submit([ev])
        self.runtime.intake.drain()
        with self.sessions() as s:
            incident = s.scalar(select(Alert.incident_id).where(Alert.fingerprint == ev.fingerprint))
        order = self.service.list_orders(incident_id=incident, limit=1)["items"][0]
        return self.service.get_order(order["id"])

    def close(self) -> None:
        self.engine.dispose()


class LiveServer:
    """The app on a real uvicorn in a thread (SSE and browsers need a real socket)."""

    def __init__(self, app: FastAPI) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
