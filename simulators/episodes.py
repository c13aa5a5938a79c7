"""Turn scenario entries into incidents and faults on concrete devices.

A scenario may name the device (``device = "wb-000001"``) or leave the choice to the
seed; either way the result is fixed for the seed, and a named device of the wrong
kind or unknown to the city is an error naming the entry.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

from core.kinds import kind_code
from simulators.faults import Fault
from simulators.incidents import INCIDENT_KIND, Incident
from simulators.scenario import FaultSpec, IncidentSpec, ScenarioError
from simulators.signals import Storm
from simulators.signals.noise import uniform

if TYPE_CHECKING:
    from simulators.world import World

FIRE_SENSORS = 3  # sensors of one grid that see one fire


def _pick(world: World, kind: str, name: str, device: str | None, where: str, elderly: bool = False,
          avoid: np.ndarray | None = None) -> int:
    devices = world.city.devices
    if device is not None:
        slot = devices.slot(device)
        if slot < 0:
            raise ScenarioError(f"{where}.device: unknown device {device!r} in city {world.city.source}")
        if devices.kind[slot] != kind_code(kind):
            raise ScenarioError(f"{where}.device: {device!r} is a {devices.kind_name(slot)}, not a {kind}")
        return slot
    candidates = np.flatnonzero(devices.kind == kind_code(kind))
    if avoid is not None and len(avoid):
        free = candidates[~np.isin(candidates, avoid)]
        candidates = free if len(free) else candidates
    if elderly and len(candidates):
        old = candidates[devices.param("age", candidates, 75.0) >= 60]
        candidates = old if len(old) else candidates
    if not len(candidates):
        raise ScenarioError(f"{where}: the city has no {kind} device")
    u = uniform(world.scenario.seed, 92, np.array([zlib.crc32(name.encode())]))[0]
    return int(candidates[int(u * len(candidates))])


def _same_grid_nearest(world: World, slot: int, n: int) -> np.ndarray:
    d = world.city.devices
    same = np.flatnonzero((d.grid == d.grid[slot]) & (d.kind == d.kind[slot]))
    dist = np.hypot(d.lat[same] - d.lat[slot], (d.lon[same] - d.lon[slot]) * 0.87)
    return same[np.argsort(dist, kind="stable")][:n]


def build_incident(world: World, spec: IncidentSpec, inc_id: str) -> Incident:
    kind = INCIDENT_KIND[spec.type]
    where = f"incidents.{inc_id}"
    start = world.start_s + spec.at
    busy = [i.devices for i in world.incidents if i.start_s < start + spec.duration and i.end_s > start]
    slot = _pick(world, kind, inc_id, spec.device, where, elderly=kind == "wearable",
                 avoid=np.concatenate(busy) if busy else None)
    inc = Incident(inc_id, spec.type, np.array([slot], np.int64), start, start + spec.duration, world.scenario.seed)
    d = world.city.devices
    if spec.type == "fire":
        inc.devices = _same_grid_nearest(world, slot, FIRE_SENSORS)
        metres = np.hypot(d.lat[inc.devices] - d.lat[slot], (d.lon[inc.devices] - d.lon[slot]) * 0.87) * 111_000
        inc.delays_s = np.round(metres / 2.0)  # smoke spreads about 2 m/s through a building
    elif spec.type == "flood":
        town = world.city.grids.town[d.grid[slot]]
        gauges = np.flatnonzero((d.kind == kind_code("river_gauge")) & (world.city.grids.town[d.grid] == town))
        inc.devices = gauges[np.argsort(d.lon[gauges], kind="stable")]  # upstream first
        inc.storm = Storm(start, spec.rain, spec.rate_mm_h, (str(town),))
    return inc


DEFAULT_FAULT_KIND = {"band_off": "wearable", "battery_dying": "wearable"}


def build_fault(world: World, spec: FaultSpec, fault_id: str) -> Fault:
    where = f"faults.{fault_id}"
    kind = spec.kind or DEFAULT_FAULT_KIND.get(spec.type, "wearable")
    if spec.device is not None and spec.kind is None:
        slot0 = world.city.devices.slot(spec.device)
        if slot0 >= 0:
            kind = world.city.devices.kind_name(slot0)
    if spec.type == "band_off" and kind != "wearable":
        raise ScenarioError(f"{where}.type: band_off happens to wearables only, not {kind}")
    start = world.start_s + spec.at
    busy = [i.devices for i in world.incidents if i.start_s < start + spec.duration and i.end_s > start]
    slot = _pick(world, kind, fault_id, spec.device, where, avoid=np.concatenate(busy) if busy else None)
    return Fault(fault_id, spec.type, kind, np.array([slot], np.int64), start, start + spec.duration,
                 world.scenario.seed)
