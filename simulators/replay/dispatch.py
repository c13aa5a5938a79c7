"""Replay's dispatch loop: the alerts package and simulated workers on simulated time.

With ``gridwatch replay --dispatch`` the detectors' alert events go to the real alerts
package (incidents, work orders, routing, escalation) on a throw-away SQLite
database and a ``ManualClock``; simulated workers hear order events from the
``EventBus`` and act through ``WorkOrderService`` directly (the same calls the API
makes), so the report can show accepted and on-site times too.
"""

from __future__ import annotations

import datetime as dt
import queue
from pathlib import Path
from typing import Any

import orjson

from core.alert import AlertEvent
from core.city import City
from core.clock import ManualClock
from core.events import EventBus
from core.metrics import new_registry
from core.settings import Settings
from simulators.api_client import ApiError
from simulators.scenario import WorkersSpec
from simulators.workers import WorkerSim

_METHOD = {"accept": "accept", "en-route": "en_route", "on-site": "on_site", "resolve": "resolve"}


class InProcessApi:
    """The worker-phone calls of ``ApiClient``, made on ``WorkOrderService`` in-process."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def act(self, worker_id: str, order_id: int, action: str, note: str = "") -> Any:
        from alerts.errors import Conflict, IllegalTransition, NotFound

        kw = {"worker_id": worker_id} if action == "accept" else {}
        try:
            return getattr(self.service, _METHOD[action])(order_id, worker_id, note or action, **kw)
        except (Conflict, IllegalTransition) as exc:
            raise ApiError(409, str(exc)) from None
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None

    def location(self, worker_id: str, lat: float, lon: float) -> Any:
        return self.service.set_location(worker_id, lat, lon, actor=worker_id)


def _ms(iso: str | None) -> int | None:
    if not iso:
        return None
    return round(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


class DispatchLoop:
    def __init__(self, city: City, clock: ManualClock, work_dir: Path, workers: WorkersSpec | None = None,
                 seed: int = 0) -> None:
        from alerts.runtime import build

        work_dir.mkdir(parents=True, exist_ok=True)
        db = work_dir / "replay.db"
        db.unlink(missing_ok=True)
        settings = Settings.load(overrides={"data_dir": work_dir, "db": f"sqlite:///{db}"}, env={})
        self.bus = EventBus()
        self.sub = self.bus.subscribe(maxsize=1_000_000)
        self.rt = build(settings, city, clock, self.bus, new_registry(), mqtt_url=None)
        self.workers = WorkerSim(city, workers, InProcessApi(self.rt.service), seed) if workers else None  # type: ignore[arg-type]

    def submit(self, events: list[AlertEvent]) -> None:
        self.rt.intake.submit(events)

    def _hear(self) -> None:
        while True:
            try:
                ev = self.sub.get(timeout=0)
            except queue.Empty:
                return
            order = ev.get("data") or {}
            if ev.get("type") == "order" and self.workers is not None and order.get("assignee"):
                self.workers.on_message(f"workers/{order['assignee']}/orders", orjson.dumps({"order": order}))

    def advance(self, now_ms: int) -> None:
        self.rt.intake.drain()
        self.rt.scheduler.run_due(now_ms / 1000.0)
        self._hear()
        if self.workers is not None:
            self.workers.tick(now_ms / 1000.0)
            self.rt.intake.drain()

    def orders(self) -> list[dict[str, Any]]:
        """Every order, with ``_<stage>_ms`` epoch-ms copies of its stage times for the report."""
        out, offset = [], 0
        while True:
            page = self.rt.service.list_orders(limit=500, offset=offset)
            for o in page["items"]:
                o.update({f"_{k}_ms": _ms(o.get(k)) for k in
                          ("created_at", "dispatched_at", "accepted_at", "on_site_at", "resolved_at")})
                out.append(o)
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return out

    def close(self) -> None:
        self.sub.close()
        self.rt.engine.dispose()
