"""Workers' dynamic state lives in the database, seeded from the city's workers.csv.

On start, every worker of the CSV is inserted if new, or has its static fields
(name, grid, role, skills) refreshed; on-duty status, availability and last known
location are kept, since the API and phones changed them since.
"""

from __future__ import annotations

import math

from alerts.models import Worker
from alerts.unit import Deps


def seed_workers(deps: Deps) -> int:
    """Upsert the city's workers; returns how many were new."""
    w = deps.city.workers
    g = deps.city.grids
    new = 0
    with deps.tx() as tx:
        existing = {x.id: x for x in tx.s.query(Worker).all()}
        for i, wid in enumerate(w.ids):
            grid_id = str(g.ids[w.grid[i]])
            static = {
                "name": str(w.name[i]), "grid_id": grid_id, "town_id": str(g.town[w.grid[i]]),
                "role": str(w.role[i]), "skills": ";".join(sorted(w.skills[i])),
            }
            row = existing.get(str(wid))
            if row is None:
                lat, lon = float(w.lat[i]), float(w.lon[i])
                tx.s.add(Worker(id=str(wid), on_duty=True, available=True, load=0, updated_at=tx.now,
                                lat=lat if math.isfinite(lat) else None, lon=lon if math.isfinite(lon) else None,
                                located_at=tx.now, **static))
                new += 1
            else:
                for k, v in static.items():
                    setattr(row, k, v)
    return new
