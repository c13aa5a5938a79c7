"""Sensor faults: episodes a detector must survive without raising red.

Based on the fault taxonomy of Ni et al., "Sensor network data fault types" (ACM TOSN
2009) and what wearable vendors document:
- ``stuck``: the main field repeats its value from the start of the episode (a frozen
  ADC or firmware hang);
- ``spikes``: about one reading in twenty is wildly off for one sample (EMI, motion
  artefact on a wrist PPG sensor);
- ``band_off``: the band is taken off: optical heart rate reads 0 and SpO₂ is absent,
  battery still reports (how common bands report "no skin contact");
- ``battery_dying``: battery falls to 0 over the episode, readings thin out below
  10 % and stop below 3 %;
- ``dropout``: the device is silent (out of radio range, gateway down).
None of these is a real-world emergency, so ground truth says: must not be red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.signals import MODELS
from simulators.signals.fleet import Fleet
from simulators.signals.noise import uniform

FAULTS = ("stuck", "spikes", "band_off", "battery_dying", "dropout")
MAIN_FIELD = {"wearable": "heart_rate", "smoke": "smoke", "river_gauge": "level", "meter": "power_kw"}
SPIKE = {"heart_rate": 3.0, "smoke": 40.0, "level": 1.6, "power_kw": 4.0}


@dataclass(slots=True)
class Fault:
    id: str
    type: str
    kind: str
    devices: np.ndarray  # city device slots
    start_s: float
    end_s: float
    seed: int = 0

    def modify(self, f: Fleet, i: np.ndarray, t: np.ndarray, v: dict[str, np.ndarray], keep: np.ndarray) -> None:
        main = MAIN_FIELD[self.kind]
        if self.type == "stuck":
            v[main] = MODELS[self.kind].values(f, i, np.full(len(t), self.start_s))[main]
        elif self.type == "spikes":
            hit = uniform(self.seed, 81, f.slots[i], np.round(t)) < 0.05
            v[main] = np.where(hit, np.maximum(v[main], 0.01) * SPIKE[main], v[main])
        elif self.type == "band_off":
            v["heart_rate"] = np.zeros(len(t))
            v["spo2"] = np.full(len(t), np.nan)
        elif self.type == "battery_dying":
            left = 15.0 * (1.0 - (t - self.start_s) / max(self.end_s - self.start_s, 1.0))
            if "battery" in v:
                v["battery"] = np.round(np.clip(left, 0, None))
            thin = (left < 10.0) & (uniform(self.seed, 82, f.slots[i], np.round(t)) < 0.5)
            keep &= ~(thin | (left < 3.0))
        elif self.type == "dropout":
            keep[:] = False

    def truth(self, city) -> dict[str, Any]:
        return {
            "id": self.id, "type": f"fault:{self.type}", "kind": self.kind,
            "onset_ms": round(self.start_s * 1000), "end_ms": round(self.end_s * 1000),
            "devices": [str(city.devices.ids[s]) for s in self.devices],
            "grid_id": city.device_grid_id(int(self.devices[0])),
            "expected_severity": None, "must_not": "red",
        }
