"""Helpers for the alerts tests: alert events, configuration variants, synchronous intake."""

from __future__ import annotations

from typing import Any

from alerts.config import AlertsConfig, load_config
from alerts.runtime import AlertsRuntime
from core.alert import AlertEvent
from core.clock import ManualClock
from core.severity import Severity

T0 = 1_732_233_600.0


def config(**changes: Any) -> AlertsConfig:
    """The default configuration with top-level sections replaced (as dicts)."""
    base = load_config().model_dump()
    for key, value in changes.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) else value
    return AlertsConfig.model_validate(base)


def alert(device_id: str = "wb-0001", *, kind: str = "wearable", grid_id: str = "g-001",
          rule: str = "wearable.hr_drop", severity: str = "red", state: str = "firing",
          at: float = T0, reason: str = "heart rate 36 bpm, 52% below usual 75 for 40 s") -> AlertEvent:
    ms = int(at * 1000)
    return AlertEvent(device_id=device_id, kind=kind, grid_id=grid_id, rule=rule, state=state,  # type: ignore[arg-type]
                      severity=Severity.parse(severity), reason=reason, value=36.0, started_ms=ms - 40_000,
                      at_ms=ms, detected_ms=ms)


def submit(rt: AlertsRuntime, *events: AlertEvent) -> None:
    """Hand events to intake and handle them now (no thread)."""
    rt.intake.submit(events)
    rt.intake.drain()


def one_order(make_runtime: Any, *events: AlertEvent) -> tuple[AlertsRuntime, ManualClock, int]:
    """A runtime on a manual clock at ``T0`` with the order opened by ``events`` (a red wearable by default)."""
    clock = ManualClock(T0)
    rt = make_runtime(clock)
    submit(rt, *(events or (alert(),)))
    return rt, clock, rt.service.list_orders()["items"][0]["id"]
