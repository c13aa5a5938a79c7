"""Incidents (one real-world situation) and the alerts that are their evidence.

Staff only: admins see all, dispatchers their town.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api import schemas
from api.deps import CtxDep, OrdersDep, StaffUser
from api.problems import forbidden, responses

router = APIRouter(prefix="/incidents", tags=["incidents"])
IncidentId = Annotated[int, Path(ge=1, le=2**62)]


class IncidentPage(BaseModel):
    items: list[schemas.Incident]
    limit: int
    offset: int


class IncidentDetail(schemas.Incident):
    alerts: list[schemas.Alert]
    orders: list[schemas.WorkOrder]


@router.get("", response_model=IncidentPage, responses=responses(401, 403, 422), summary="List incidents, red first")
def list_incidents(
    user: StaffUser,
    orders: OrdersDep,
    status: Literal["open", "resolved"] | None = None,
    grid_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    town = (user.town_id or "\x00") if user.role == "dispatcher" else None  # a dispatcher: its town only
    return orders.list_incidents(status=status, grid_id=grid_id, town_id=town, limit=limit, offset=offset)


def _visible(user: Any, ctx: Any, orders: Any, incident_id: int) -> dict[str, Any]:
    incident = orders.get_incident(incident_id)
    if not user.may_see_grid(incident["grid_id"], ctx.town_of):
        raise forbidden(f"incident {incident_id} is outside town {user.town_id}")
    return incident


@router.get("/{incident_id}", response_model=IncidentDetail, responses=responses(401, 403, 404, 422),
            summary="One incident with its alerts and orders")
def get_incident(incident_id: IncidentId, user: StaffUser, orders: OrdersDep, ctx: CtxDep) -> dict[str, Any]:
    return _visible(user, ctx, orders, incident_id)


@router.get("/{incident_id}/alerts", response_model=list[schemas.Alert], responses=responses(401, 403, 404, 422),
            summary="The alerts of one incident, oldest first")
def incident_alerts(incident_id: IncidentId, user: StaffUser, orders: OrdersDep, ctx: CtxDep) -> list[dict[str, Any]]:
    return _visible(user, ctx, orders, incident_id)["alerts"]
