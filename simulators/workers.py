"""Simulated grid workers: hear their orders over MQTT, act through the HTTP API.

Each worker's phone subscribes to ``workers/{id}/orders`` (payload
``{"event": ..., "order": {...}}``). When an order is dispatched to a worker, the
worker answers (or, with the scenario's ``no_answer_probability``, does not: the
escalation ladder must cope), accepts after a delay, sets off, reports its location
as it travels at the scenario's speed, arrives (``on-site``), and resolves after a
while. Every step is an API call with the worker's own token (issued once through
``POST /api/v1/tokens`` with the admin token), so the loop closes exactly as with
a real phone. Time is the simulation's clock; ``tick(now_s)`` does what is due.

>>> haversine_m(29.56, 106.55, 29.57, 106.55) // 1
1111.0
"""

from __future__ import annotations

import heapq
import logging
import math
import queue
import random
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from core.city import City
from simulators.api_client import ApiClient, ApiError
from simulators.scenario import WorkersSpec

log = logging.getLogger(__name__)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


@dataclass(order=True)
class _Step:
    at_s: float
    seq: int
    action: str = field(compare=False)
    order_id: int = field(compare=False)
    worker: str = field(compare=False)


@dataclass
class _Trip:
    from_: tuple[float, float]
    to: tuple[float, float]
    start_s: float
    arrive_s: float


class WorkerSim:
    """All simulated workers of a city, driven by ``tick`` on simulated time."""

    def __init__(self, city: City, spec: WorkersSpec, api: ApiClient, seed: int = 0) -> None:
        self.city, self.spec, self.api = city, spec, api
        self.rng = random.Random(seed)
        self.seed = seed
        self.inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.plan: list[_Step] = []
        self.seen: set[tuple[int, str]] = set()
        self.trips: dict[tuple[int, str], _Trip] = {}
        self.where: dict[str, tuple[float, float]] = {
            str(w): (float(la), float(lo)) for w, la, lo in zip(city.workers.ids, city.workers.lat, city.workers.lon,
                                                              strict=True)
        }
        self.counts: Counter[str] = Counter()
        self.timeline: list[dict[str, Any]] = []  # what the workers did, for reports and tests
        self._seq = 0

    # called on the MQTT network thread: only hand off
    def on_message(self, topic: str, payload: bytes) -> None:
        self.inbox.put((topic, payload))

    def _schedule(self, at_s: float, action: str, order_id: int, worker: str) -> None:
        self._seq += 1
        heapq.heappush(self.plan, _Step(at_s, self._seq, action, order_id, worker))

    def _answers(self, order_id: int, worker: str) -> bool:
        u = zlib.crc32(f"{self.seed}/{order_id}/{worker}".encode()) / 2**32
        return u >= self.spec.no_answer_probability

    def _hear(self, now_s: float, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        try:
            order = orjson.loads(payload)["order"]
            order_id, status, assignee = int(order["id"]), order["status"], order.get("assignee")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self.counts["bad_order_message"] += 1
            return
        worker = parts[1] if len(parts) == 3 else ""
        if status != "dispatched" or assignee != worker or (order_id, worker) in self.seen:
            return
        self.seen.add((order_id, worker))
        if not self._answers(order_id, worker):
            self.counts["not_answered"] += 1
            self._note(now_s, order_id, worker, "ignored")
            return
        dest = (order.get("lat"), order.get("lon"))
        if dest[0] is None or dest[1] is None:
            slot = self.city.devices.slot(str(order.get("device_id")))
            dest = (float(self.city.devices.lat[slot]), float(self.city.devices.lon[slot])) if slot >= 0 else \
                self.where.get(worker, (0.0, 0.0))
        self.trips[(order_id, worker)] = _Trip(self.where.get(worker, dest), (float(dest[0]), float(dest[1])), 0, 0)
        self._schedule(now_s + self.rng.uniform(*self.spec.accept_delay), "accept", order_id, worker)

    def _note(self, now_s: float, order_id: int, worker: str, what: str) -> None:
        self.timeline.append({"at_ms": round(now_s * 1000), "order_id": order_id, "worker": worker, "step": what})

    def tick(self, now_s: float) -> None:
        """Handle messages heard so far, then every planned step that is due by ``now_s``."""
        while True:
            try:
                topic, payload = self.inbox.get_nowait()
            except queue.Empty:
                break
            self._hear(now_s, topic, payload)
        while self.plan and self.plan[0].at_s <= now_s:
            step = heapq.heappop(self.plan)
            try:
                self._do(step)
            except (ApiError, httpx.HTTPError) as exc:
                self.counts[f"api_error:{step.action}"] += 1
                log.warning("worker %s could not %s order %s: %s", step.worker, step.action, step.order_id, exc)
                if getattr(exc, "status", 0) in (0, 500, 502, 503) and step.seq > 0:
                    self._schedule(step.at_s + 2.0, step.action, step.order_id, step.worker)

    def _do(self, step: _Step) -> None:
        key = (step.order_id, step.worker)
        trip = self.trips.get(key)
        if step.action == "accept":
            try:
                self.api.act(step.worker, step.order_id, "accept")
            except ApiError as exc:
                if exc.status == 409:  # someone else took it, or it moved on
                    self.counts["accept_conflict"] += 1
                    return
                raise
            self._note(step.at_s, step.order_id, step.worker, "accepted")
            self._schedule(step.at_s, "en-route", step.order_id, step.worker)
        elif step.action == "en-route" and trip:
            self.api.act(step.worker, step.order_id, "en-route")
            trip.from_ = self.where.get(step.worker, trip.to)
            metres = haversine_m(*trip.from_, *trip.to) * 1.3  # streets are not straight
            trip.start_s, trip.arrive_s = step.at_s, step.at_s + metres / (self.spec.travel_speed_kmh / 3.6)
            self._note(step.at_s, step.order_id, step.worker, "en_route")
            self._schedule(min(step.at_s + self.spec.location_every, trip.arrive_s), "move", *key)
        elif step.action == "move" and trip:
            span = trip.arrive_s - trip.start_s
            frac = 1.0 if step.at_s >= trip.arrive_s or span <= 0 else (step.at_s - trip.start_s) / span
            here = tuple(a + (b - a) * frac for a, b in zip(trip.from_, trip.to, strict=True))
            self.where[step.worker] = (here[0], here[1])
            self.api.location(step.worker, here[0], here[1])
            if frac >= 1.0:
                self._schedule(step.at_s, "on-site", *key)
            else:
                self._schedule(min(step.at_s + self.spec.location_every, trip.arrive_s), "move", *key)
        elif step.action == "on-site":
            self.api.act(step.worker, step.order_id, "on-site")
            self._note(step.at_s, step.order_id, step.worker, "on_site")
            self._schedule(step.at_s + self.rng.uniform(*self.spec.on_site_time), "resolve", *key)
        elif step.action == "resolve":
            self.api.act(step.worker, step.order_id, "resolve", note="handled on site (simulated worker)")
            self._note(step.at_s, step.order_id, step.worker, "resolved")
            self.trips.pop(key, None)
