"""Incidents with ground truth: what happened, to which devices, from when, how bad.

Each incident is an ``Effect`` on the signal models (see ``simulators.signals``) plus
the facts a replay report compares against: onset, affected devices, the severity a
good detector should raise, and the departments the DOMAIN.md rules pull in.

Shapes, and what they are based on:
- ``cardiac``: the DOMAIN.md case; heart rate falls from the wearer's own level to
  ~30 bpm with a ~25 s time constant (bradyarrhythmia in acute inferior MI), SpO₂
  sags a few points over minutes. Red; medical-120 and traffic-police (escort).
- ``fall``: the band's fall flag raised and never cancelled (the wearer does not get
  up to press "I'm OK", the SOS-band contract the fall detector reads), a startle
  tachycardia that fades over two minutes, no walking (a fall without recovery). Red.
- ``hypoxemia``: SpO₂ falls to ~84 % over five minutes (below the 88-92 % targets of
  the BTS 2017 oxygen guideline), heart rate rises in compensation. Orange.
- ``fire``: the sensors of one grid nearest the seat of the fire see obscuration climb
  quadratically to ~18 %/m in three minutes (a t² fire, NFPA 72 Annex B), heat to
  ~70 °C and CO to ~350 ppm, later the further they are. Red; fire-119.
- ``flood``: a storm of 25-45 mm/h for hours over one town's river (see
  ``signals.river``); the gauges rise in turn downstream. Orange (red if a gauge is
  projected over its guarantee level); water-authority.
- ``meter_anomaly``: an enterprise's load stops to zero (a breakdown or a
  shutdown nobody announced) and its counter freezes. Yellow; city-management.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulators.signals import meter
from simulators.signals.fleet import Fleet, Storm
from simulators.signals.noise import normal

INCIDENT_KIND = {"cardiac": "wearable", "fall": "wearable", "hypoxemia": "wearable", "fire": "smoke",
                 "flood": "river_gauge", "meter_anomaly": "meter"}
SEVERITY = {"cardiac": "red", "fall": "red", "hypoxemia": "orange", "fire": "red", "flood": "orange",
            "meter_anomaly": "yellow"}
DEPARTMENTS = {"cardiac": ["medical-120", "traffic-police"], "fall": ["medical-120"], "hypoxemia": ["medical-120"],
               "fire": ["fire-119"], "flood": ["water-authority"], "meter_anomaly": ["city-management"]}


@dataclass(slots=True)
class Incident:
    """One ground-truth incident; ``modify`` makes the devices show it."""

    id: str
    type: str
    devices: np.ndarray  # city device slots, the first is where it happens
    start_s: float  # onset
    end_s: float
    seed: int = 0
    storm: Storm | None = None  # floods act through the weather, not through modify
    delays_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per device (fire spread)
    facts: dict[str, Any] = field(default_factory=dict)  # extra ground truth (e.g. warning crossings)

    @property
    def kind(self) -> str:
        return INCIDENT_KIND[self.type]

    def modify(self, f: Fleet, i: np.ndarray, t: np.ndarray, v: dict[str, np.ndarray], keep: np.ndarray) -> None:
        x = t - self.start_s
        jitter = normal(self.seed, 71, f.slots[i], np.round(t))
        if self.type == "cardiac":
            drop = 1.0 - np.exp(-x / 25.0)
            v["heart_rate"] = np.round(v["heart_rate"] * (1 - drop) + (30.0 + 1.5 * jitter) * drop)
            v["spo2"] = np.round(v["spo2"] - 6.0 * (1.0 - np.exp(-x / 240.0)))
        elif self.type == "fall":
            v["fall"] = np.ones(len(x))  # uncancelled until the incident ends (help arrived)
            v["heart_rate"] = np.round(v["heart_rate"] + 18.0 * np.exp(-x / 120.0))
        elif self.type == "hypoxemia":
            ramp = np.clip(x / 300.0, 0.0, 1.0)
            v["spo2"] = np.round(v["spo2"] - ramp * (v["spo2"] - 84.0 - jitter))
            v["heart_rate"] = np.round(v["heart_rate"] + 10.0 * ramp)
        elif self.type == "fire":
            delay = self.delays_s[_positions(self.devices, f.slots[i])]
            s = np.clip((x - delay) / 180.0, 0.0, 1.0) ** 2
            v["smoke"] = np.round(v["smoke"] + 18.0 * s, 3)
            v["temperature"] = np.round(v["temperature"] + 48.0 * s, 1)
            v["co"] = np.round(v["co"] + 350.0 * s, 1)
        elif self.type == "meter_anomaly":
            frozen = meter.values(f, i, np.full(len(t), self.start_s))["energy_kwh"]
            v["power_kw"] = np.round(np.abs(0.05 * jitter), 2)
            v["energy_kwh"] = frozen

    def truth(self, city) -> dict[str, Any]:
        """The JSON-ready ground truth a replay report compares against."""
        slot = int(self.devices[0])
        return {
            "id": self.id, "type": self.type, "kind": self.kind,
            "onset_ms": round(self.start_s * 1000), "end_ms": round(self.end_s * 1000),
            "devices": [str(city.devices.ids[s]) for s in self.devices],
            "grid_id": city.device_grid_id(slot),
            "lat": float(city.devices.lat[slot]), "lon": float(city.devices.lon[slot]),
            "expected_severity": self.facts.get("expected_severity", SEVERITY[self.type]),
            "departments": DEPARTMENTS[self.type],
            **{k: v for k, v in self.facts.items() if k != "expected_severity"},
        }


def _positions(devices: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Index in ``devices`` of each of ``slots`` (all present)."""
    order = np.argsort(devices)
    return order[np.searchsorted(devices[order], slots)]
