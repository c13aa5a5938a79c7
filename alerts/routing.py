"""Who gets an order: the device's grid first, then the nearest neighbouring grids.

Candidates are grid workers (role ``worker``) of the device's grid and of the
``neighbour_grids`` grids whose centres are nearest. They are ranked by, in order:
on duty and available, same grid before neighbours, having the skill the incident
kind needs, distance from their last known location (great circle), and load (open
orders). Every choice carries a one-line explanation for the timeline.

>>> round(float(haversine_m(29.5630, 106.5516, 29.5640, 106.5520)))
118
>>> explain_distance(420.0, 4.0)
'420 m (~2 min)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.config import RoutingConfig
from alerts.models import Worker
from core.city import City

EARTH_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in metres from one point to one or many points."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def explain_distance(metres: float, speed_m_s: float) -> str:
    if not math.isfinite(metres):
        return "location unknown"
    where = f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"
    return f"{where} (~{max(1, math.ceil(metres / speed_m_s / 60))} min)"


@dataclass(frozen=True, slots=True)
class Choice:
    """A ranked candidate and why."""

    worker_id: str
    grid_id: str
    distance_m: float
    eligible: bool  # on duty and available
    explanation: str


class Router:
    """Ranks workers for an order; stateless apart from the city's grid geometry."""

    def __init__(self, city: City, config: RoutingConfig) -> None:
        self.city = city
        self.config = config
        self._neighbours: dict[str, list[str]] = {}

    def neighbours(self, grid_id: str) -> list[str]:
        """The ``neighbour_grids`` grids with the nearest centres, nearest first."""
        if grid_id not in self._neighbours:
            grids = self.city.grids
            slot = grids.slot(grid_id)
            if slot < 0:
                return []
            d = haversine_m(float(grids.lat[slot]), float(grids.lon[slot]), grids.lat, grids.lon)
            d[slot] = np.inf
            order = np.argsort(d, kind="stable")[: self.config.neighbour_grids]
            self._neighbours[grid_id] = [str(grids.ids[i]) for i in order if np.isfinite(d[i])]
        return self._neighbours[grid_id]

    def location(self, grid_id: str, lat: float | None, lon: float | None) -> tuple[float, float]:
        """Where to go: the device location, else the grid centre."""
        if lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon):
            return lat, lon
        slot = self.city.grids.slot(grid_id)
        if slot < 0:
            return math.nan, math.nan
        return float(self.city.grids.lat[slot]), float(self.city.grids.lon[slot])

    def rank(
        self, s: Session, grid_id: str, kind: str, lat: float | None, lon: float | None,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Choice]:
        """Candidates for an order in ``grid_id`` of ``kind`` at (lat, lon), best first."""
        grids = [grid_id, *self.neighbours(grid_id)]
        rows = [w for w in s.scalars(select(Worker).where(Worker.grid_id.in_(grids), Worker.role == "worker"))
                if w.id not in exclude]
        if not rows:
            return []
        lat, lon = self.location(grid_id, lat, lon)
        wl = np.array([np.nan if w.lat is None else w.lat for w in rows], dtype=float)
        wn = np.array([np.nan if w.lon is None else w.lon for w in rows], dtype=float)
        dist = haversine_m(lat, lon, wl, wn) if math.isfinite(lat) else np.full(len(rows), np.nan)
        dist = np.where(np.isnan(dist), np.inf, dist)
        skill = self.config.skills.get(kind, "")
        keyed = []
        for w, d in zip(rows, dist, strict=True):
            skilled = not skill or skill in w.skills.split(";")
            eligible = bool(w.on_duty and w.available)
            key = (not eligible, w.grid_id != grid_id, not skilled, float(d), w.load, w.id)
            keyed.append((key, w, float(d), skilled, eligible))
        keyed.sort(key=lambda k: k[0])
        return [Choice(w.id, w.grid_id, d, e, self._explain(w, grid_id, skill, sk, e, d))
                for _, w, d, sk, e in keyed]

    def _explain(self, w: Worker, grid_id: str, skill: str, skilled: bool, eligible: bool, d: float) -> str:
        parts = ["same grid" if w.grid_id == grid_id else f"neighbour grid {w.grid_id}"]
        if skill:
            parts.append(skill if skilled else f"no {skill} skill")
        parts.append(explain_distance(d, self.config.speed_m_s))
        parts.append("idle" if w.load == 0 else f"{w.load} open order{'s' if w.load > 1 else ''}")
        if not w.on_duty:
            parts.append("off duty")
        elif not eligible:
            parts.append("unavailable")
        return f"{w.id}: " + ", ".join(parts)

    def supervisor(self, s: Session, grid_id: str) -> Worker | None:
        """The grid's supervisor (on duty preferred), else one of a neighbouring grid."""
        for g in (grid_id, *self.neighbours(grid_id)):
            sups = s.scalars(select(Worker).where(Worker.grid_id == g, Worker.role == "supervisor")
                             .order_by(Worker.on_duty.desc(), Worker.id)).first()
            if sups is not None:
                return sups
        return None
