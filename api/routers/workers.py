"""Grid workers: staff create and update them; a worker's phone reports duty and place.

Staff (admin, dispatcher of the worker's town) may do everything here; a worker may
read itself and set its own duty and location.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api import schemas
from api.context import AppContext
from api.deps import CtxDep, CurrentUser, OrdersDep, StaffUser, town_scope
from api.identity import Identity
from api.problems import forbidden, not_found, responses

router = APIRouter(prefix="/workers", tags=["workers"])
WorkerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


def _check(user: Identity, ctx: AppContext, worker: dict[str, Any], self_ok: bool) -> None:
    if self_ok and user.role == "worker" and user.worker_id == worker["id"]:
        return
    if not user.may_see_grid(worker["grid_id"], ctx.town_of):
        raise forbidden(f"a {user.role} token cannot act on worker {worker['id']}")


@router.get("", response_model=list[schemas.Worker], responses=responses(401, 403, 422),
            summary="Workers, filtered by grid, town or duty")
def list_workers(
    user: StaffUser,
    orders: OrdersDep,
    grid_id: Annotated[str | None, Query(max_length=64)] = None,
    town_id: Annotated[str | None, Query(max_length=64)] = None,
    on_duty: bool | None = None,
) -> list[dict[str, Any]]:
    town_id = town_scope(user, town_id, "workers")
    return orders.list_workers(grid_id=grid_id, town_id=town_id, on_duty=on_duty)


@router.post("", status_code=201, response_model=schemas.Worker, responses=responses(401, 403, 404, 409, 422),
             summary="Add a worker who is not in workers.csv")
def create_worker(body: schemas.WorkerCreate, user: StaffUser, orders: OrdersDep, ctx: CtxDep) -> dict[str, Any]:
    if ctx.city.grids.slot(body.grid_id) < 0:
        raise not_found(f"grid {body.grid_id}")
    _check(user, ctx, {"id": body.id, "grid_id": body.grid_id}, self_ok=False)
    worker = orders.create_worker(body.id, body.name, body.grid_id, body.role, body.skills, actor=user.actor)
    if body.lat is not None and body.lon is not None:
        worker = orders.set_location(body.id, body.lat, body.lon, actor=user.actor)
    return worker


@router.get("/{worker_id}", response_model=schemas.Worker, responses=responses(401, 403, 404, 422),
            summary="One worker (staff, or the worker itself)")
def get_worker(worker_id: WorkerId, user: CurrentUser, orders: OrdersDep, ctx: CtxDep) -> dict[str, Any]:
    worker = orders.get_worker(worker_id)
    _check(user, ctx, worker, self_ok=True)
    return worker


@router.patch("/{worker_id}", response_model=schemas.Worker, responses=responses(401, 403, 404, 422),
              summary="Change a worker's name, grid, role or skills")
def update_worker(
    worker_id: WorkerId, body: schemas.WorkerUpdate, user: StaffUser, orders: OrdersDep, ctx: CtxDep
) -> dict[str, Any]:
    _check(user, ctx, orders.get_worker(worker_id), self_ok=False)
    fields = body.model_dump(exclude_none=True)
    if "grid_id" in fields:
        _check(user, ctx, {"id": worker_id, "grid_id": fields["grid_id"]}, self_ok=False)
    return orders.update_worker(worker_id, user.actor, **fields)


@router.put("/{worker_id}/duty", response_model=schemas.Worker, responses=responses(401, 403, 404, 422),
            summary="On or off duty (off-duty workers are routed last)")
def set_duty(worker_id: WorkerId, body: schemas.Duty, user: CurrentUser, orders: OrdersDep,
             ctx: CtxDep) -> dict[str, Any]:
    _check(user, ctx, orders.get_worker(worker_id), self_ok=True)
    return orders.set_duty(worker_id, body.on_duty, actor=user.actor)


@router.put("/{worker_id}/location", response_model=schemas.Worker, responses=responses(401, 403, 404, 422),
            summary="The worker's position, reported by the phone")
def set_location(worker_id: WorkerId, body: schemas.Location, user: CurrentUser, orders: OrdersDep,
                 ctx: CtxDep) -> dict[str, Any]:
    _check(user, ctx, orders.get_worker(worker_id), self_ok=True)
    return orders.set_location(worker_id, body.lat, body.lon, actor=user.actor)
