"""SLA clocks per stage, as percentiles per grid or town.

Stages: ``detect_dispatch`` (detector emitted -> order dispatched), ``dispatch_accept``,
``accept_on_site`` and ``on_site_resolved``. Each is measured on the orders that have
both ends stamped; results are seconds.

>>> percentiles([1.0, 2.0, 3.0, 4.0])
{'count': 4, 'p50': 2.5, 'p90': 3.7, 'p99': 3.97}
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.models import WorkOrder

STAGES: dict[str, tuple[str, str]] = {
    "detect_dispatch": ("detected_at", "dispatched_at"),
    "dispatch_accept": ("dispatched_at", "accepted_at"),
    "accept_on_site": ("accepted_at", "on_site_at"),
    "on_site_resolved": ("on_site_at", "resolved_at"),
}


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None}
    p50, p90, p99 = np.percentile(np.asarray(values, dtype=float), [50, 90, 99])
    return {"count": len(values), "p50": round(float(p50), 3), "p90": round(float(p90), 3),
            "p99": round(float(p99), 3)}


def stage_percentiles(s: Session, by: str = "grid") -> list[dict[str, Any]]:
    """``[{"grid_id": .., "stages": {stage: {count, p50, p90, p99}}}]``; ``by`` is grid, town or all."""
    key = {"grid": WorkOrder.grid_id, "town": WorkOrder.town_id, "all": None}
    if by not in key:
        raise ValueError(f"by must be grid, town or all, got {by!r}")
    cols = [getattr(WorkOrder, c) for c in ("detected_at", "dispatched_at", "accepted_at", "on_site_at",
                                            "resolved_at")]
    group_col = key[by]
    stmt = select(*(cols if group_col is None else [group_col, *cols]))
    groups: dict[str, dict[str, list[float]]] = {}
    for row in s.execute(stmt.where(WorkOrder.dispatched_at.is_not(None))):
        name = "all" if group_col is None else str(row[0])
        stamps = dict(zip(("detected_at", "dispatched_at", "accepted_at", "on_site_at", "resolved_at"),
                          row if group_col is None else row[1:], strict=True))
        g = groups.setdefault(name, {st: [] for st in STAGES})
        for stage, (a, b) in STAGES.items():
            if stamps[a] is not None and stamps[b] is not None:
                g[stage].append((stamps[b] - stamps[a]).total_seconds())
    label = "scope" if by == "all" else f"{by}_id"
    return [{label: name, "stages": {st: percentiles(v) for st, v in g.items()}} for name, g in sorted(groups.items())]
