"""Devices of the city with their latest readings and open alerts (staff only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api import schemas
from api.context import AppContext
from api.deps import CtxDep, OrdersDep, StaffUser, town_scope
from api.problems import forbidden, not_found, responses
from core.kinds import KINDS

router = APIRouter(prefix="/devices", tags=["devices"])
DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class DevicePage(BaseModel):
    items: list[schemas.Device]
    total: int
    limit: int
    offset: int


def device_out(ctx: AppContext, slot: int, alerts: list[dict[str, Any]], latest: bool) -> dict[str, Any]:
    """One device of the city as the API shows it."""
    city, dev = ctx.city, ctx.city.devices
    device_id = str(dev.ids[slot])
    place = next((str(col[slot]) for col in dev.extra.values() if col[slot]), None)
    reading = ctx.latest_readings(device_id) if latest and ctx.latest_readings else None
    grid_slot = int(dev.grid[slot])
    return {
        "device_id": device_id, "kind": dev.kind_name(slot), "grid_id": str(city.grids.ids[grid_slot]),
        "town_id": str(city.grids.town[grid_slot]), "lat": float(dev.lat[slot]), "lon": float(dev.lon[slot]),
        "place": place, "latest": reading, "open_alerts": alerts,
    }


@router.get("", response_model=DevicePage, responses=responses(401, 403, 422),
            summary="Devices, filtered by grid, town or kind, with their open alerts")
def list_devices(
    user: StaffUser,
    ctx: CtxDep,
    orders: OrdersDep,
    grid_id: Annotated[str | None, Query(max_length=64)] = None,
    town_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: Literal["wearable", "smoke", "river_gauge", "meter"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    town_id = town_scope(user, town_id, "devices")
    slots = _select(ctx, grid_id, town_id, kind)
    page = slots[offset:offset + limit]
    firing: dict[str, list[dict[str, Any]]] = {}
    for a in orders.open_alerts(grid_id=grid_id):
        firing.setdefault(a["device_id"], []).append(a)
    items = [device_out(ctx, int(s), firing.get(str(ctx.city.devices.ids[s]), []), latest=False) for s in page]
    return {"items": items, "total": len(slots), "limit": limit, "offset": offset}


def _select(ctx: AppContext, grid_id: str | None, town_id: str | None, kind: str | None):
    import numpy as np

    city = ctx.city
    keep = np.ones(len(city.devices), bool)
    if grid_id is not None:
        keep &= city.devices.grid == city.grids.slot(grid_id)
    if town_id is not None:
        keep &= city.grids.town[city.devices.grid] == town_id
    if kind is not None:
        keep &= city.devices.kind == KINDS.index(kind)
    return np.flatnonzero(keep)


@router.get("/{device_id}", response_model=schemas.Device, responses=responses(401, 403, 404, 422),
            summary="One device with its latest reading and open alerts")
def get_device(device_id: DeviceId, user: StaffUser, ctx: CtxDep, orders: OrdersDep) -> dict[str, Any]:
    slot = ctx.city.devices.slot(device_id)
    if slot < 0:
        raise not_found(f"device {device_id}")
    out = device_out(ctx, slot, orders.open_alerts(device_id=device_id), latest=True)
    if not user.may_see_grid(out["grid_id"], ctx.town_of):
        raise forbidden(f"device {device_id} is outside town {user.town_id}")
    return out
