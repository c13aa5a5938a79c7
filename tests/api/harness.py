"""A gridwatch API around a real work-order service, for API, browser and benchmark runs.

``Harness`` migrates the database, seeds the city's workers through the service,
builds ``create_app`` and issues one token per role. ``red_order`` raises an order
the way the pipeline does (incident -> order -> routed -> departments called).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from alerts import db, dispatch
from alerts.config import load_config
from alerts.models import Incident
from alerts.notify.fanout import Fanout
from alerts.routing import Router
from alerts.service import WorkOrderService
from alerts.unit import Deps
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
        db.upgrade(self.url)
        self.engine = db.make_engine(self.url)
        self.sessions = db.session_factory(self.engine)
        config = load_config()
        self.deps = Deps(self.sessions, SystemClock(), self.bus, config, self.city,
                         Router(self.city, config.routing), Fanout(config.notify, mqtt=False))
        self.service = WorkOrderService(self.deps)
        self.latest: dict[str, dict[str, Any]] = {}
        settings = Settings.load(overrides={"admin_token": ADMIN_TOKEN}, env={})
        self.ctx = AppContext(settings, self.city, new_registry(), self.bus, orders=self.service,
                              session_factory=self.sessions, latest_readings=self.latest.get, sse_heartbeat_s=1.0)
        self.app: FastAPI = create_app(self.ctx)

    def seed_workers(self) -> None:
        w = self.city.workers
        for i, wid in enumerate(w.ids):
            try:
                self.service.create_worker(str(wid), str(w.name[i]), self.city.grids.ids[w.grid[i]],
                                           str(w.role[i]), sorted(w.skills[i]))
            except Exception:  # already there from an earlier harness on the same database
                continue
            self.service.set_location(str(wid), float(w.lat[i]), float(w.lon[i]))

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
        """An order raised as the pipeline raises it; returns the order as the API shows it."""
        dev = self.city.devices
        slot = dev.slot(device_id)
        grid_id = self.city.device_grid_id(slot)
        now_ms = self.deps.clock.now_ms()
        ev = AlertEvent(device_id, dev.kind_name(slot), grid_id, f"{dev.kind_name(slot)}.test{next(_seq)}", "firing",
                        severity, reason, 36.0, now_ms - 40_000, now_ms, now_ms,
                        float(dev.lat[slot]), float(dev.lon[slot]))
        with self.deps.tx() as tx:
            town = str(self.city.grids.town[self.city.grids.slot(grid_id)])
            inc = Incident(key=ev.fingerprint, kind=ev.kind, grid_id=grid_id, town_id=town, device_id=device_id,
                           severity=int(severity), status="open", opened_at=tx.now, last_alert_at=tx.now,
                           alert_count=1, lat=ev.lat, lon=ev.lon)
            tx.s.add(inc)
            tx.s.flush()
            order = dispatch.open_order(self.deps, tx, inc, ev)
            order_id = order.id
        return self.service.get_order(order_id)

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
