"""AlertEvent: what the detectors tell the alerts package.

An event is a *transition* of one alert (device + rule): it starts firing, its
severity changes while firing, or it resolves. Alerts are rare next to readings, so
they are plain objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.severity import Severity

AlertState = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    device_id: str
    kind: str  # device kind: wearable, smoke, river_gauge, meter
    grid_id: str
    rule: str  # e.g. "wearable.hr_drop"; one active alert per (device_id, rule)
    state: AlertState
    severity: Severity
    reason: str  # for a grid worker: "heart rate 36 bpm, 52% below usual 75 for 40 s"
    value: float  # the value that decided the transition
    started_ms: int  # event time the condition began (start of pending)
    at_ms: int  # event time of this transition (reading ts)
    detected_ms: int  # wall/sim clock when the detector emitted it (for SLA detect->dispatch)
    lat: float = float("nan")
    lon: float = float("nan")

    @property
    def fingerprint(self) -> str:
        """Identity of the alert across its transitions."""
        return f"{self.device_id}/{self.rule}"
