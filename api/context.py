"""Everything the HTTP API needs from the running service, in one object.

The composition root (``gridwatch/service.py``) builds an ``AppContext`` and hands
it to ``api.app.create_app``; tests build one around a small city and a SQLite or
PostgreSQL work-order service. Optional parts stay ``None`` until wired: the API then
answers what it can (``/health``, ``/metrics``) and 503 for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from core.city import City
from core.clock import Clock, SystemClock
from core.events import EventBus
from core.settings import Settings

# device_id -> {"ts": epoch ms, "values": {field: value}}; None when unknown
LatestReadings = Callable[[str], Mapping[str, Any] | None]


@dataclass
class AppContext:
    """The service's parts the API reads; only ``orders`` changes work orders."""

    settings: Settings
    city: City
    registry: CollectorRegistry
    bus: EventBus
    orders: Any = None  # alerts.service.WorkOrderService
    health: Callable[[], dict[str, Any]] | None = None
    latest_readings: LatestReadings | None = None
    session_factory: Callable[[], Any] | None = None  # SQLAlchemy sessionmaker (identity tables)
    clock: Clock = field(default_factory=SystemClock)
    sse_heartbeat_s: float = 15.0
    # severity -> {"accept_s": .., "arrive_s": ..}; None = from the alerts configuration
    sla_targets: dict[str, dict[str, float]] | None = None

    def town_of(self, grid_id: str) -> str | None:
        """The town of a grid of the city, ``None`` if unknown."""
        slot = self.city.grids.slot(grid_id)
        return None if slot < 0 else str(self.city.grids.town[slot])
