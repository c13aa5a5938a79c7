"""A running scenario: the city's fleets, its incidents and faults, readings per window.

``World(city, scenario, start_s)`` turns a validated ``Scenario`` into effects on the
signal models; ``window(a, b)`` gives the readings reported in [a, b) as one
``ReadingBatch`` per kind; ``ground_truth()`` the JSON-ready facts for replay reports.
A continuous scenario keeps adding incidents as time moves on.

>>> from core.city import load_city
>>> from simulators.scenario import load_scenario
>>> w = World(load_city("tests/data/city-small"), load_scenario("elderly-cardiac").model_copy(
...     update={"incidents": [], "faults": []}), start_s=1_732_233_600)
>>> sorted(b.kind for b in w.window(w.start_s, w.start_s + 60))
['meter', 'river_gauge', 'smoke', 'wearable']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.batch import ReadingBatch
from core.city import City
from core.kinds import KINDS
from simulators.episodes import build_fault, build_incident
from simulators.faults import Fault
from simulators.incidents import INCIDENT_KIND, Incident
from simulators.scenario import FaultSpec, IncidentSpec, Scenario
from simulators.signals import Fleet, Storm, prepare, river, sample
from simulators.signals.noise import uniform


class World:
    def __init__(self, city: City, scenario: Scenario, start_s: float) -> None:
        self.city, self.scenario, self.start_s = city, scenario, float(start_s)
        self.end_s = self.start_s + scenario.duration if scenario.duration else float("inf")
        storms = [Storm(start_s + s.at, s.duration, s.rate_mm_h, tuple(s.towns)) for s in scenario.storms]
        self.fleets: dict[str, Fleet] = {}
        for kind in KINDS:
            iv = scenario.publish.intervals.get(kind)
            self.fleets[kind] = prepare(Fleet.of(city, kind, scenario.seed, storms), tuple(iv) if iv else None)
        self.incidents: list[Incident] = []
        self.faults: list[Fault] = []
        for n, spec in enumerate(scenario.incidents):
            self._add_incident(spec, n)
        for n, fspec in enumerate(scenario.faults):
            self.faults.append(build_fault(self, fspec, f"fault-{n + 1}"))
        self._next_continuous = 0

    def _add_incident(self, spec: IncidentSpec, n: int) -> Incident:
        inc = build_incident(self, spec, f"inc-{n + 1}")
        if inc.storm is not None:
            self.fleets["river_gauge"].storms.append(inc.storm)
            inc.facts.update(_flood_facts(self.fleets["river_gauge"], inc))
        self.incidents.append(inc)
        return inc

    def materialise(self, until_s: float) -> None:
        """Materialise the continuous schedule's incidents (and faults) that start before ``until_s``."""
        c = self.scenario.continuous
        if c is None:
            return
        while True:
            k = self._next_continuous
            at = c.first + k * c.every
            if self.start_s + at >= min(until_s, self.end_s):
                return
            pick = uniform(self.scenario.seed, 91, np.array([k]))[0]
            typ = c.types[k % len(c.types)]
            self._add_incident(IncidentSpec(type=typ, at=at, duration=c.incident_duration), len(self.incidents))
            if c.faults and pick < 0.5:
                ftype = c.faults[k % len(c.faults)]
                kind = "wearable" if ftype in ("band_off", "battery_dying") else KINDS[(k // 2) % len(KINDS)]
                fspec = FaultSpec(type=ftype, at=at + c.every / 2, duration=min(c.every, 600.0), kind=kind)
                self.faults.append(build_fault(self, fspec, f"fault-{len(self.faults) + 1}"))
            self._next_continuous += 1

    def warmup_s(self, kind: str | None = None) -> float:
        """History before the start: of one kind, or the longest of any kind (``None``)."""
        p = self.scenario.publish
        if kind is None:
            return max([p.warmup, *(p.warmup_kinds.get(k, 0.0) for k in p.kinds)])
        return max(p.warmup, p.warmup_kinds.get(kind, 0.0))

    def window(self, a_s: float, b_s: float) -> list[ReadingBatch]:
        """Readings reported in [a_s, b_s) (clipped to the scenario and each kind's warm-up), one batch per kind."""
        self.materialise(b_s)
        b_s = min(b_s, self.end_s)
        effects = [e for e in (*self.incidents, *self.faults) if e.end_s > a_s and e.start_s < b_s]
        out = []
        for kind in self.scenario.publish.kinds:
            a_k = max(a_s, self.start_s - self.warmup_s(kind))
            if a_k >= b_s:
                continue
            batch = sample(self.fleets[kind], a_k, b_s, effects)
            if len(batch):
                out.append(batch)
        return out

    def ground_truth(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "city": self.city.source,
            "start_ms": round(self.start_s * 1000),
            "data_start_ms": round((self.start_s - self.warmup_s()) * 1000),  # warm-up history included
            "end_ms": None if self.end_s == float("inf") else round(self.end_s * 1000),
            "incidents": [i.truth(self.city) for i in self.incidents],
            "faults": [f.truth(self.city) for f in self.faults],
        }


def _flood_facts(f: Fleet, inc: Incident) -> dict[str, Any]:
    """When each gauge crosses its warning level, and whether any passes its guarantee level."""
    t = np.arange(inc.start_s, inc.end_s, 60.0)
    crossings: dict[str, int | None] = {}
    red = False
    for slot in inc.devices:
        j = np.full(len(t), int(f.local(np.array([slot]))[0]))
        lv = river.level(f, j, t)
        warn = f.city.devices.param("warning_level", np.array([slot]), 5.0)[0]
        guar = f.city.devices.param("guarantee_level", np.array([slot]), np.inf)[0]
        above = np.flatnonzero(lv >= warn)
        crossings[str(f.city.devices.ids[slot])] = round(t[above[0]] * 1000) if len(above) else None
        red |= bool(np.any(lv >= guar))
    return {"warning_crossed_ms": crossings, "expected_severity": "red" if red else "orange"}


__all__ = ["INCIDENT_KIND", "World"]
