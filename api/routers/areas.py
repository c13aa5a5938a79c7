"""Grids and towns: where they are, open orders by severity and SLA figures per stage.

Staff only; a dispatcher sees its own town and its grids.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api import schemas
from api.context import AppContext
from api.deps import CtxDep, CurrentUser, OrdersDep, StaffUser, town_scope
from api.identity import Identity
from api.problems import forbidden, not_found, responses

grids = APIRouter(prefix="/grids", tags=["grids and towns"])
towns = APIRouter(prefix="/towns", tags=["grids and towns"])
targets = APIRouter(tags=["grids and towns"])
AreaId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
EMPTY = {"blue": 0, "yellow": 0, "orange": 0, "red": 0, "total": 0}


def _sla(orders: Any, by: str) -> dict[str, list[dict[str, Any]]]:
    """Per area id: one row per stage (``alerts.sla``), seconds."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in orders.sla(by):
        out[str(row[f"{by}_id"])] = [
            {"stage": stage, "count": p["count"], "p50_s": p["p50"], "p90_s": p["p90"], "p99_s": p["p99"]}
            for stage, p in row["stages"].items()
        ]
    return out


def _counts(orders: Any, by: str) -> dict[str, dict[str, int]]:
    return {str(r[f"{by}_id"]): {k: r[k] for k in EMPTY} for r in orders.open_counts(by)}


def _grid(ctx: AppContext, slot: int, counts: dict, sla: dict) -> dict[str, Any]:
    g = ctx.city.grids
    gid = str(g.ids[slot])
    return {"id": gid, "town_id": str(g.town[slot]), "lat": float(g.lat[slot]), "lon": float(g.lon[slot]),
            "open_orders": counts.get(gid, EMPTY), "sla": sla.get(gid, [])}


def _town(ctx: AppContext, town_id: str, counts: dict, sla: dict) -> dict[str, Any]:
    g = ctx.city.grids
    slots = np.flatnonzero(g.town == town_id)
    return {"id": town_id, "town_id": town_id, "lat": float(g.lat[slots].mean()), "lon": float(g.lon[slots].mean()),
            "grids": [str(x) for x in g.ids[slots]], "open_orders": counts.get(town_id, EMPTY),
            "sla": sla.get(town_id, [])}


def _check_town(user: Identity, town_id: str) -> None:
    if user.role == "dispatcher" and town_id != user.town_id:
        raise forbidden(f"a dispatcher of {user.town_id} cannot see town {town_id}")


@grids.get("", response_model=list[schemas.AreaSummary], responses=responses(401, 403, 422),
           summary="Grids (of a town) with open orders by severity and SLA figures")
def list_grids(
    user: StaffUser, ctx: CtxDep, orders: OrdersDep, town_id: Annotated[str | None, Query(max_length=64)] = None
) -> list[dict[str, Any]]:
    town_id = town_scope(user, town_id, "grids")
    g = ctx.city.grids
    slots = np.arange(len(g)) if town_id is None else np.flatnonzero(g.town == town_id)
    counts, sla = _counts(orders, "grid"), _sla(orders, "grid")
    return [_grid(ctx, int(s), counts, sla) for s in slots]


@grids.get("/{grid_id}", response_model=schemas.AreaSummary, responses=responses(401, 403, 404, 422),
           summary="One grid with open orders by severity and SLA figures")
def get_grid(grid_id: AreaId, user: StaffUser, ctx: CtxDep, orders: OrdersDep) -> dict[str, Any]:
    slot = ctx.city.grids.slot(grid_id)
    if slot < 0:
        raise not_found(f"grid {grid_id}")
    _check_town(user, str(ctx.city.grids.town[slot]))
    return _grid(ctx, slot, _counts(orders, "grid"), _sla(orders, "grid"))


@towns.get("", response_model=list[schemas.AreaSummary], responses=responses(401, 403),
           summary="Towns with open orders by severity and SLA figures")
def list_towns(user: StaffUser, ctx: CtxDep, orders: OrdersDep) -> list[dict[str, Any]]:
    ids = sorted({str(t) for t in ctx.city.grids.town})
    if user.role == "dispatcher":
        ids = [t for t in ids if t == user.town_id]
    counts, sla = _counts(orders, "town"), _sla(orders, "town")
    return [_town(ctx, t, counts, sla) for t in ids]


@towns.get("/{town_id}", response_model=schemas.AreaSummary, responses=responses(401, 403, 404, 422),
           summary="One town with its grids, open orders by severity and SLA figures")
def get_town(town_id: AreaId, user: StaffUser, ctx: CtxDep, orders: OrdersDep) -> dict[str, Any]:
    if not (ctx.city.grids.town == town_id).any():
        raise not_found(f"town {town_id}")
    _check_town(user, town_id)
    return _town(ctx, town_id, _counts(orders, "town"), _sla(orders, "town"))


class Target(BaseModel):
    accept_s: float
    arrive_s: float


@targets.get("/sla-targets", response_model=dict[str, Target], responses=responses(401),
             summary="Accept-by and on-site-by targets per severity (seconds after dispatch)")
def sla_targets(user: CurrentUser, ctx: CtxDep) -> dict[str, dict[str, float]]:
    if ctx.sla_targets is None:
        from alerts.config import load_config

        cfg = load_config(ctx.settings.alerts_config)
        ctx.sla_targets = {sev: {"accept_s": d.accept_s, "arrive_s": d.arrive_s} for sev, d in cfg.escalation.items()}
    return ctx.sla_targets
